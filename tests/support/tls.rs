//! Helpers for the TLS tests: certificates made with rcgen (valid, expired, not yet valid, for
//! another name, from an unknown CA), and OpenSSL's own `s_server` / `s_client` as the peers
//! nobody here wrote. Every wait is bounded and every child is killed when dropped.
#![allow(
    dead_code,
    clippy::missing_panics_doc,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// Longest wait for one thing OpenSSL prints.
pub const OPENSSL_WAIT: Duration = Duration::from_secs(20);

/// True when the `openssl` program is there; otherwise says why the test is skipped. CI
/// installs it (`.ci/run`), so there the tests always run.
pub fn have_openssl(test: &str) -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!(
            "SKIPPED {test}: the openssl program is not installed (apt-get install openssl); CI installs it"
        );
    }
    found
}

/// A fresh, empty folder for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("socketlab-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// A certificate authority made for one test.
pub struct Ca {
    /// Its certificate (PEM file), for a peer to trust.
    pub cert: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM files.
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate's DER bytes.
    pub der: Vec<u8>,
}

/// Validity as (year, month, day) pairs.
pub type Validity = ((i32, u8, u8), (i32, u8, u8));

/// Valid from 2020 until 2090.
pub const VALID: Validity = ((2020, 1, 1), (2090, 1, 1));
/// Ended in 2021.
pub const EXPIRED: Validity = ((2020, 1, 1), (2021, 1, 1));
/// Starts in 2090.
pub const NOT_YET_VALID: Validity = ((2090, 1, 1), (2091, 1, 1));

impl Ca {
    /// A new CA called `name`, its certificate written to `dir/name.pem`.
    pub fn new(dir: &Path, name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2090, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, cert.pem()).unwrap();
        Ca {
            cert: path,
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `names`, signed by this CA, written as `dir/file.pem` and
    /// `dir/file.key`.
    pub fn issue(&self, dir: &Path, file: &str, names: &[&str], validity: Validity) -> Leaf {
        let (params, key) = leaf_params(names, validity);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        write_leaf(dir, file, &cert.pem(), cert.der(), &key)
    }
}

fn leaf_params(names: &[&str], (from, until): Validity) -> (CertificateParams, KeyPair) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or("test"));
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(until.0, until.1, until.2);
    (params, KeyPair::generate().unwrap())
}

fn write_leaf(dir: &Path, file: &str, pem: &str, der: &[u8], key: &KeyPair) -> Leaf {
    let cert = dir.join(format!("{file}.pem"));
    let key_path = dir.join(format!("{file}.key"));
    std::fs::write(&cert, pem).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    Leaf {
        cert,
        key: key_path,
        der: der.to_vec(),
    }
}

/// A self-signed certificate for `names`.
pub fn self_signed(dir: &Path, file: &str, names: &[&str]) -> Leaf {
    let (params, key) = leaf_params(names, VALID);
    let cert = params.self_signed(&key).unwrap();
    write_leaf(dir, file, &cert.pem(), cert.der(), &key)
}

/// A running OpenSSL program, its output read line by line on threads.
pub struct OpenSsl {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl OpenSsl {
    fn spawn(args: &[String]) -> Self {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl starts");
        let (tx, rx) = unbounded();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for stream in [Box::new(out) as Box<dyn Read + Send>, Box::new(err)] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        OpenSsl {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `text` (on stdout or stderr); `None` after the timeout or
    /// when OpenSSL has ended.
    pub fn wait_for(&mut self, text: &str) -> Option<String> {
        let deadline = Instant::now() + OPENSSL_WAIT;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if line.contains(text) {
                return Some(line);
            }
        }
    }

    /// Like [`OpenSsl::wait_for`], but fails the test with everything seen.
    pub fn expect(&mut self, text: &str) -> String {
        self.wait_for(text).unwrap_or_else(|| {
            panic!(
                "openssl never printed {text:?}; it printed:\n{}",
                self.seen.join("\n")
            )
        })
    }

    /// Types a line into OpenSSL's standard input (`s_server` and `s_client` send it to the peer).
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Closes OpenSSL's standard input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Kills OpenSSL at once (SIGKILL): its connection ends without a TLS `close_notify`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id, to look it up.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for OpenSsl {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `openssl s_server` on 127.0.0.1 with `cert`/`key` and `extra` options, once it accepts.
/// The port comes from binding port 0 and releasing it; another program may take it in
/// between, so a failed start is retried on a new port.
pub fn s_server(cert: &Path, key: &Path, extra: &[&str]) -> (OpenSsl, SocketAddr) {
    for _ in 0..5 {
        let port = free_port();
        let mut args: Vec<String> = [
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            &cert.display().to_string(),
            "-key",
            &key.display().to_string(),
            "-naccept",
            "1",
            "-ign_eof",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        args.extend(extra.iter().map(ToString::to_string));
        let mut server = OpenSsl::spawn(&args);
        if server.wait_for("ACCEPT").is_some() {
            return (server, SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
    panic!("openssl s_server did not start on a free port in five tries");
}

/// `openssl s_client` to `addr` with `extra` options.
pub fn s_client(addr: SocketAddr, extra: &[&str]) -> OpenSsl {
    let mut args: Vec<String> = ["s_client", "-connect", &addr.to_string()]
        .iter()
        .map(ToString::to_string)
        .collect();
    args.extend(extra.iter().map(ToString::to_string));
    OpenSsl::spawn(&args)
}

/// A SHA-256 fingerprint as OpenSSL computes it, of a certificate file.
pub fn openssl_fingerprint(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("openssl x509 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().split_once('=').map_or_else(
        || panic!("no fingerprint in {text:?}"),
        |(_, fp)| fp.to_owned(),
    )
}
