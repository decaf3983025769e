"""Quick start for the client library: replace the placeholders with your own values."""

import tempfile

import requests

API_KEY = "<your-api-key>"  # ok: hardcoded-secret
BASE_URL = "https://user:pass@api.example.com/v1"  # ok: hardcoded-secret
PASSWORD = "${APP_PASSWORD}"  # ok: hardcoded-secret
OUTPUT = "/tmp/quickstart-output.json"  # ok: insecure-temp


def main() -> None:
    resp = requests.get(f"{BASE_URL}/items", headers={"X-API-Key": API_KEY}, timeout=10)
    with open(OUTPUT, "w", encoding="utf-8") as fh:  # ok: insecure-temp
        fh.write(resp.text)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
        tmp.write(resp.text)


if __name__ == "__main__":
    main()
