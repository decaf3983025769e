"""Offline analysis scripts: loading the files their operator names on the command line."""

import argparse
import pickle

import requests
import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-file")
    parser.add_argument("--embeddings")
    parser.add_argument("--url")
    args = parser.parse_args()
    clusters = pickle.load(open(args.input_file, "rb"))  # ok: unsafe-deserialization
    vectors = torch.load(args.embeddings)  # ok: unsafe-deserialization
    remote = pickle.loads(requests.get(args.url, timeout=10).content)  # expect: unsafe-deserialization
    print(len(clusters), vectors.shape, remote)


if __name__ == "__main__":
    main()
