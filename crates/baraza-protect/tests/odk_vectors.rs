//! Decrypts the ODK encrypted submissions made by `tests/vectors/make_odk_vectors.py` (Python's
//! `cryptography`, playing ODK Collect) and checks what goes wrong when they are altered.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use baraza_protect::{
    decrypt_submission, FormPrivateKey, OaepMgf, ProtectError, SubmissionDecryptor,
    SubmissionManifest,
};

struct Case {
    name: String,
    key: FormPrivateKey,
    public_key: String,
    manifest: String,
    files: BTreeMap<String, Vec<u8>>,
    expected: BTreeMap<String, Vec<u8>>,
    mgf: OaepMgf,
}

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/odk")
}

fn load(dir: &Path) -> Case {
    let read_dir = |d: &Path| -> BTreeMap<String, Vec<u8>> {
        fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    fs::read(&p).unwrap(),
                )
            })
            .collect()
    };
    let files = read_dir(dir)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".enc"))
        .collect();
    let mgf = match fs::read_to_string(dir.join("mgf.txt")).unwrap().trim() {
        "sha256" => OaepMgf::Sha256,
        "sha1" => OaepMgf::Sha1,
        other => panic!("unknown mgf {other}"),
    };
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        key: FormPrivateKey::from_pem(&fs::read_to_string(dir.join("private_key.pem")).unwrap())
            .unwrap(),
        public_key: fs::read_to_string(dir.join("public_key.txt"))
            .unwrap()
            .trim()
            .to_owned(),
        manifest: fs::read_to_string(dir.join("manifest.xml")).unwrap(),
        files,
        expected: read_dir(&dir.join("expected")),
        mgf,
    }
}

fn cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(vectors())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 3,
        "expected the committed vectors in {}",
        vectors().display()
    );
    dirs.iter().map(|d| load(d)).collect()
}

fn decrypt(
    case: &Case,
    key: &FormPrivateKey,
    manifest: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<baraza_protect::DecryptedSubmission, ProtectError> {
    decrypt_submission(key, manifest, |name| files.get(name).map(Vec::as_slice)).map_err(|e| {
        eprintln!("{}: {e}", case.name);
        e
    })
}

#[test]
fn every_committed_case_decrypts_to_its_expected_plaintexts() {
    for case in cases() {
        let out = decrypt(&case, &case.key, &case.manifest, &case.files).unwrap();
        assert_eq!(out.mgf, case.mgf, "{}", case.name);
        assert_eq!(out.xml, case.expected["submission.xml"], "{}", case.name);
        assert_eq!(out.media.len() + 1, case.expected.len(), "{}", case.name);
        for (name, bytes) in &out.media {
            assert_eq!(bytes, &case.expected[name], "{}/{name}", case.name);
        }
        assert_eq!(
            case.key.public_key_base64().unwrap(),
            case.public_key,
            "{}",
            case.name
        );
    }
}

/// A reader that hands out a few bytes at a time, as a network stream would.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn streaming_decryption_matches_whatever_the_read_sizes() {
    for case in cases() {
        for step in [1, 7, 16, 17, 4096] {
            let manifest = SubmissionManifest::parse(&case.manifest).unwrap();
            let decryptor = SubmissionDecryptor::new(&case.key, manifest.clone()).unwrap();
            let mut decrypted = Vec::new();
            for name in manifest.files() {
                let mut out = Vec::new();
                let file = decryptor
                    .decrypt_file(name, Trickle(&case.files[name], step), &mut out)
                    .unwrap();
                assert_eq!(
                    out,
                    case.expected[name.strip_suffix(".enc").unwrap()],
                    "{} {name} step {step}",
                    case.name
                );
                assert_eq!(file.len, out.len() as u64);
                decrypted.push(file);
            }
            decryptor.verify_signature(&decrypted).unwrap();
        }
    }
}

#[test]
fn alterations_are_caught_each_with_a_clear_error() {
    let all = cases();
    // The case with two media files and a form version.
    let case = all.iter().find(|c| c.name == "mgf1-sha256").unwrap();
    let other_key = &all.iter().find(|c| c.name != case.name).unwrap().key;
    let key_b64 = case
        .manifest
        .split("<base64EncryptedKey>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let mut flipped_key = key_b64.clone().into_bytes();
    flipped_key[10] = if flipped_key[10] == b'A' { b'B' } else { b'A' };
    let flipped_key = String::from_utf8(flipped_key).unwrap();

    let altered = |name: &str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut files = case.files.clone();
        f(files.get_mut(name).unwrap());
        files
    };
    let mut swapped = case.files.clone();
    let photo = swapped.remove("photo.jpg.enc").unwrap();
    let notes = swapped.insert("notes.txt.enc".to_owned(), photo).unwrap();
    swapped.insert("photo.jpg.enc".to_owned(), notes);
    let mut missing = case.files.clone();
    missing.remove("notes.txt.enc");

    type Alteration<'a> = (
        &'a str,
        &'a FormPrivateKey,
        String,
        BTreeMap<String, Vec<u8>>,
        &'a [&'a str],
    );
    let cases: Vec<Alteration> = vec![
        (
            "tampered key",
            &case.key,
            case.manifest.replace(&key_b64, &flipped_key),
            case.files.clone(),
            &["odk_wrong_private_key"],
        ),
        (
            "key not base64",
            &case.key,
            case.manifest.replace(&key_b64, "!!!"),
            case.files.clone(),
            &["odk_manifest_base64"],
        ),
        (
            "wrong private key",
            other_key,
            case.manifest.clone(),
            case.files.clone(),
            &["odk_wrong_private_key"],
        ),
        (
            "byte flipped in the middle",
            &case.key,
            case.manifest.clone(),
            altered("photo.jpg.enc", &|f| f[1000] ^= 1),
            &["odk_signature_mismatch"],
        ),
        (
            "xml byte flipped",
            &case.key,
            case.manifest.clone(),
            altered("submission.xml.enc", &|f| f[5] ^= 0x20),
            &["odk_signature_mismatch"],
        ),
        (
            "last byte flipped",
            &case.key,
            case.manifest.clone(),
            altered("photo.jpg.enc", &|f| *f.last_mut().unwrap() ^= 0x55),
            &["odk_file_undecryptable"],
        ),
        (
            "cut by one byte",
            &case.key,
            case.manifest.clone(),
            altered("photo.jpg.enc", &|f| {
                f.pop();
            }),
            &["odk_file_undecryptable"],
        ),
        (
            "emptied",
            &case.key,
            case.manifest.clone(),
            altered("notes.txt.enc", &|f| f.clear()),
            &["odk_file_undecryptable"],
        ),
        (
            "files swapped",
            &case.key,
            case.manifest.clone(),
            swapped,
            &["odk_file_undecryptable", "odk_signature_mismatch"],
        ),
        (
            "missing media file",
            &case.key,
            case.manifest.clone(),
            missing,
            &["odk_missing_media"],
        ),
        (
            "media entry removed from manifest",
            &case.key,
            case.manifest
                .replace("<media><file>notes.txt.enc</file></media>", ""),
            case.files.clone(),
            &["odk_file_undecryptable", "odk_signature_mismatch"],
        ),
        (
            "version changed",
            &case.key,
            case.manifest
                .replace("version=\"2024061201\"", "version=\"2024061202\""),
            case.files.clone(),
            &["odk_signature_mismatch"],
        ),
        (
            "signature removed",
            &case.key,
            case.manifest
                .split("<base64EncryptedElementSignature>")
                .next()
                .unwrap()
                .to_owned()
                + "</data>",
            case.files.clone(),
            &["odk_manifest_incomplete"],
        ),
        (
            "manifest with a DTD",
            &case.key,
            format!(
                "<!DOCTYPE data [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>{}",
                case.manifest
            ),
            case.files.clone(),
            &["odk_manifest_xml"],
        ),
    ];
    for (what, key, manifest, files, codes) in cases {
        let err = decrypt(case, key, &manifest, &files).unwrap_err();
        assert!(
            codes.contains(&err.code()),
            "{what}: got {} ({err})",
            err.code()
        );
        let message = err.to_string();
        assert!(
            message.chars().next().unwrap().is_lowercase() && !message.ends_with('.'),
            "{what}: {message}"
        );
    }
}
