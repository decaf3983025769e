"""Register archbot as a GitHub App through GitHub's App manifest flow (``archbot setup``, and
``archbot serve`` started without App credentials): a local page posts the manifest to GitHub, the
callback exchanges GitHub's one-time code for the App's id, key and webhook secret and writes ``.env``."""

ENV_FILE = ".env"  # in the current directory: written by `archbot setup`, read by `archbot serve`
