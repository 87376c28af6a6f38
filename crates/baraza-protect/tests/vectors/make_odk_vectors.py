#!/usr/bin/env python3
"""Test vectors for ODK encrypted submissions, made by an implementation independent of ours.

This script plays ODK Collect (EncryptionUtils.java): for each case it makes an RSA-2048 form
key, a random 256-bit AES key, encrypts that key with RSA-OAEP (SHA-256, MGF1 with SHA-256 or
SHA-1 depending on the case), derives the IV seed MD5(instanceID || key) and, before each file,
increments byte (i % 16) of the seed for the i-th file (media files in manifest order, then
submission.xml), encrypts each file with AES-256-CFB128 and PKCS#7 padding, and signs the lines
form id / version (if any) / base64 key / instanceID / name::md5hex... with MD5 then RSA-OAEP.

    python3 make_odk_vectors.py generate   # rewrite odk/<case>/ next to this script
    python3 make_odk_vectors.py check      # regenerate into a temporary directory and decrypt
                                           # it, then decrypt the committed vectors; exit 1 on
                                           # any difference

Needs the `cryptography` package (pip install cryptography).
"""

import base64
import hashlib
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # cryptography >= 43 keeps CFB among its "decrepit" (legacy) modes
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:
    from cryptography.hazmat.primitives.ciphers.modes import CFB

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "odk"
MGF = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}

SUBMISSION_XML = """<?xml version='1.0' ?><data id="{form_id}"{version_attr} xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"><nom>Fatimé Haroun</nom><telephone>+235 66 12 34 56</telephone><village>Abéché</village><photo>{photo}</photo><voix>{voice}</voix><orx:meta><orx:instanceID>{instance_id}</orx:instanceID></orx:meta></data>"""

CASES = [
    # name, MGF1 digest, PEM format, form version, media files (name, size)
    ("mgf1-sha256", "sha256", "pkcs8", "2024061201", [("photo.jpg", 3000), ("notes.txt", 32)]),
    ("mgf1-sha1", "sha1", "pkcs1", None, [("signature.png", 1), ("voix.m4a", 4097)]),
    ("no-media", "sha256", "pkcs8", "3", []),
]


def oaep(mgf):
    return asym_padding.OAEP(mgf=asym_padding.MGF1(algorithm=MGF[mgf]()), algorithm=hashes.SHA256(), label=None)


# ---- playing ODK Collect ------------------------------------------------------------------------


def aes_cfb_encrypt(key, iv, data):
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), CFB(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def make_case(out, name, mgf, pem_format, version, media_specs):
    case = out / name
    if case.exists():
        shutil.rmtree(case)
    (case / "expected").mkdir(parents=True)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fmt = serialization.PrivateFormat.PKCS8 if pem_format == "pkcs8" else serialization.PrivateFormat.TraditionalOpenSSL
    pem = private.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    (case / "private_key.pem").write_bytes(pem)
    public_der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    (case / "public_key.txt").write_text(base64.b64encode(public_der).decode() + "\n")
    (case / "mgf.txt").write_text(mgf + "\n")

    form_id = "enquete_menage"
    instance_id = "uuid:" + str(uuid.uuid4())
    media = [(n, os.urandom(size)) for n, size in media_specs]
    xml = SUBMISSION_XML.format(
        form_id=form_id,
        version_attr=f' version="{version}"' if version is not None else "",
        photo=media[0][0] if media else "",
        voice=media[1][0] if len(media) > 1 else "",
        instance_id=instance_id,
    ).encode("utf-8")

    key = os.urandom(32)
    public = private.public_key()
    b64_key = base64.b64encode(public.encrypt(key, oaep(mgf))).decode()
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + key).digest())
    signature_lines = [form_id] + ([version] if version is not None else []) + [b64_key, instance_id]
    for i, (file_name, data) in enumerate(media + [("submission.xml", xml)]):
        seed[i % 16] = (seed[i % 16] + 1) % 256
        (case / (file_name + ".enc")).write_bytes(aes_cfb_encrypt(key, bytes(seed), data))
        (case / "expected" / file_name).write_bytes(data)
        signature_lines.append(f"{file_name}::{hashlib.md5(data).hexdigest()}")
    digest = hashlib.md5(("\n".join(signature_lines) + "\n").encode("utf-8")).digest()
    b64_signature = base64.b64encode(public.encrypt(digest, oaep(mgf))).decode()

    # The manifest as Collect's kXML serialiser writes it.
    parts = ['<data xmlns="http://www.opendatakit.org/xforms/encrypted" id="%s"' % form_id]
    if version is not None:
        parts.append(' version="%s"' % version)
    parts.append(' encrypted="yes">')
    parts.append("<base64EncryptedKey>%s</base64EncryptedKey>" % b64_key)
    parts.append('<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>%s</orx:instanceID></orx:meta>\n' % instance_id)
    for file_name, _ in media:
        parts.append("<media><file>%s.enc</file></media>\n" % file_name)
    parts.append("<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>")
    parts.append("<base64EncryptedElementSignature>%s</base64EncryptedElementSignature>" % b64_signature)
    parts.append("</data>")
    (case / "manifest.xml").write_text("".join(parts), encoding="utf-8")


def generate(out):
    out.mkdir(parents=True, exist_ok=True)
    for name, mgf, pem_format, version, media in CASES:
        make_case(out, name, mgf, pem_format, version, media)


# ---- playing ODK Central: decrypting ------------------------------------------------------------


def rsa_oaep_decrypt(private, data):
    for mgf in ("sha256", "sha1"):
        try:
            return private.decrypt(data, oaep(mgf)), mgf
        except ValueError:
            continue
    raise ValueError("neither MGF1-SHA256 nor MGF1-SHA1 opens the RSA ciphertext")


def decrypt_case(case):
    import xml.etree.ElementTree as ET

    private = serialization.load_pem_private_key((case / "private_key.pem").read_bytes(), password=None)
    root = ET.fromstring((case / "manifest.xml").read_text(encoding="utf-8"))

    def local(tag):
        return tag.rsplit("}", 1)[-1]

    children = {local(c.tag): c for c in root}
    form_id, version = root.get("id"), root.get("version")
    b64_key = children["base64EncryptedKey"].text.strip()
    instance_id = [e.text.strip() for e in root.iter() if local(e.tag) == "instanceID"][0]
    media = [f.text.strip() for m in root if local(m.tag) == "media" for f in m if local(f.tag) == "file"]
    files = media + [children["encryptedXmlFile"].text.strip()]

    key, mgf = rsa_oaep_decrypt(private, base64.b64decode(b64_key))
    assert len(key) == 32, "AES key is not 32 bytes"
    expected_mgf = (case / "mgf.txt").read_text().strip()
    assert mgf == expected_mgf, f"key opened with MGF1-{mgf}, expected MGF1-{expected_mgf}"
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + key).digest())
    lines = [form_id] + ([version] if version is not None else []) + [b64_key, instance_id]
    for i, enc_name in enumerate(files):
        seed[i % 16] = (seed[i % 16] + 1) % 256
        decryptor = Cipher(algorithms.AES(key), CFB(bytes(seed))).decryptor()
        padded = decryptor.update((case / enc_name).read_bytes()) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
        name = enc_name[: -len(".enc")]
        expected = (case / "expected" / name).read_bytes()
        assert plain == expected, f"{case.name}/{name}: decrypted bytes differ from expected/{name}"
        lines.append(f"{name}::{hashlib.md5(plain).hexdigest()}")
    signed, _ = rsa_oaep_decrypt(private, base64.b64decode(children["base64EncryptedElementSignature"].text.strip()))
    digest = hashlib.md5(("\n".join(lines) + "\n").encode("utf-8")).digest()
    assert signed == digest, f"{case.name}: element signature does not match"


def check():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "odk"
        generate(fresh)
        sources = [("regenerated", fresh), ("committed", VECTORS)]
        for label, base in sources:
            cases = sorted(p for p in base.iterdir() if p.is_dir())
            if not cases:
                print(f"FAIL {label}: no cases in {base}")
                failures += 1
            for case in cases:
                try:
                    decrypt_case(case)
                    print(f"ok   {label} {case.name}")
                except Exception as e:  # report every case, then fail
                    print(f"FAIL {label} {case.name}: {e}")
                    failures += 1
    return 1 if failures else 0


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "generate":
        generate(VECTORS)
        print(f"wrote {', '.join(c[0] for c in CASES)} into {VECTORS}")
        return 0
    if command == "check":
        return check()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
