#!/usr/bin/env python3
"""Independent check of an AIC node's chain, written without the project's code.

Fetches every block from GET /api/v1/blocks/{height} and recomputes, from the raw bytes only:
  - the block hash: SHA-256d of the 80 header bytes (`header_hex`), shown byte-reversed;
  - the proof of work: that hash, read as a little-endian integer, is at most the target
    the header's compact `bits` encode (Bitcoin's nBits rules);
  - the links: each header's previous-block field is the hash of the block below it
    (genesis: all zeros);
  - the merkle root: Bitcoin's merkle tree over SHA-256d of each transaction's `hex`,
    equal to the header's merkle root field, and each txid as served;
  - the coinbase: the first transaction starts with tag 0 and commits to the block height.

Usage: check_chain.py [--node http://127.0.0.1:7450] [--min-height N]
Exits 0 when every block passes, 1 otherwise. Standard library only.
"""

import argparse
import hashlib
import json
import struct
import sys
import urllib.request


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def target_from_bits(bits: int) -> int:
    size = bits >> 24
    word = bits & 0x007FFFFF
    if bits & 0x00800000 and word:
        raise ValueError(f"negative compact target {bits:#010x}")
    if size <= 3:
        return word >> (8 * (3 - size))
    return word << (8 * (size - 3))


def merkle_root(txids: list) -> bytes:
    if not txids:
        return bytes(32)
    level = list(txids)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def get(node: str, path: str):
    with urllib.request.urlopen(f"{node}/api/v1{path}", timeout=30) as r:
        return json.load(r)


def check(node: str, min_height: int) -> int:
    status = get(node, "/status")
    tip = status["height"]
    if tip < min_height:
        print(f"FAIL: chain height {tip} is below the required {min_height}")
        return 1
    errors = []
    prev_hash = "00" * 32
    tx_count = 0
    for height in range(tip + 1):
        block = get(node, f"/blocks/{height}")
        header = bytes.fromhex(block["header_hex"])
        where = f"block {height}"
        if len(header) != 80:
            errors.append(f"{where}: header is {len(header)} bytes, not 80")
            continue
        digest = sha256d(header)
        block_hash = digest[::-1].hex()
        if block_hash != block["hash"]:
            errors.append(f"{where}: hash {block_hash} != served {block['hash']}")
        if block["height"] != height:
            errors.append(f"{where}: served height {block['height']}")
        (bits,) = struct.unpack_from("<I", header, 72)
        if int.from_bytes(digest, "little") > target_from_bits(bits):
            errors.append(f"{where}: hash {block_hash} above target of bits {bits:08x}")
        header_prev = header[4:36][::-1].hex()
        if header_prev != prev_hash:
            errors.append(f"{where}: previous hash {header_prev} != {prev_hash}")
        txids = []
        for i, tx in enumerate(block["txs"]):
            raw = bytes.fromhex(tx["hex"])
            txid = sha256d(raw)
            if txid[::-1].hex() != tx["txid"]:
                errors.append(f"{where} tx {i}: txid {txid[::-1].hex()} != served {tx['txid']}")
            txids.append(txid)
        if merkle_root(txids) != header[36:68]:
            errors.append(f"{where}: merkle root of the transactions differs from the header's")
        if not block["txs"]:
            errors.append(f"{where}: no transactions")
        else:
            coinbase = bytes.fromhex(block["txs"][0]["hex"])
            if coinbase[0] != 0:
                errors.append(f"{where}: first transaction is not a coinbase")
            elif struct.unpack_from("<Q", coinbase, 1)[0] != height:
                errors.append(f"{where}: coinbase commits to another height")
        tx_count += len(txids)
        prev_hash = block_hash
    if errors:
        for e in errors[:50]:
            print("FAIL:", e)
        print(f"{len(errors)} problems in {tip + 1} blocks")
        return 1
    print(f"OK: {tip + 1} blocks (heights 0..{tip}), {tx_count} transactions: hashes, "
          f"proof of work, links and merkle roots verified")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node", default="http://127.0.0.1:7450")
    ap.add_argument("--min-height", type=int, default=0)
    args = ap.parse_args()
    return check(args.node.rstrip("/"), args.min_height)


if __name__ == "__main__":
    sys.exit(main())
