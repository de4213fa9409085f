//! Service names and ports ("http" ↔ 80), from the system's services database where it has one
//! (`/etc/services`), otherwise from a built-in table of common services.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// Transport protocol of a service entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// "tcp" or "udp", as the services database spells it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the service table came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSource {
    /// The system's `/etc/services`.
    System,
    /// The built-in table (no readable services file on this system).
    BuiltIn,
}

/// A services database: names (and aliases) to ports, and ports to their main name.
#[derive(Debug, Default)]
pub struct ServiceDb {
    by_name: HashMap<(String, Protocol), u16>,
    by_port: HashMap<(u16, Protocol), String>,
    source: Option<ServiceSource>,
}

/// Common services, for systems without a services file (Windows, minimal containers).
const BUILT_IN: &[(&str, u16, &[Protocol])] = &[
    ("echo", 7, &[Protocol::Tcp, Protocol::Udp]),
    ("discard", 9, &[Protocol::Tcp, Protocol::Udp]),
    ("daytime", 13, &[Protocol::Tcp, Protocol::Udp]),
    ("ftp-data", 20, &[Protocol::Tcp]),
    ("ftp", 21, &[Protocol::Tcp]),
    ("ssh", 22, &[Protocol::Tcp]),
    ("telnet", 23, &[Protocol::Tcp]),
    ("smtp", 25, &[Protocol::Tcp]),
    ("time", 37, &[Protocol::Tcp, Protocol::Udp]),
    ("domain", 53, &[Protocol::Tcp, Protocol::Udp]),
    ("bootps", 67, &[Protocol::Udp]),
    ("bootpc", 68, &[Protocol::Udp]),
    ("tftp", 69, &[Protocol::Udp]),
    ("gopher", 70, &[Protocol::Tcp]),
    ("finger", 79, &[Protocol::Tcp]),
    ("http", 80, &[Protocol::Tcp, Protocol::Udp]),
    ("pop3", 110, &[Protocol::Tcp]),
    ("sunrpc", 111, &[Protocol::Tcp, Protocol::Udp]),
    ("ntp", 123, &[Protocol::Udp]),
    ("imap", 143, &[Protocol::Tcp]),
    ("snmp", 161, &[Protocol::Tcp, Protocol::Udp]),
    ("snmp-trap", 162, &[Protocol::Tcp, Protocol::Udp]),
    ("ldap", 389, &[Protocol::Tcp, Protocol::Udp]),
    ("https", 443, &[Protocol::Tcp, Protocol::Udp]),
    ("syslog", 514, &[Protocol::Udp]),
    ("submission", 587, &[Protocol::Tcp]),
    ("ldaps", 636, &[Protocol::Tcp, Protocol::Udp]),
    ("imaps", 993, &[Protocol::Tcp]),
    ("pop3s", 995, &[Protocol::Tcp]),
    ("mqtt", 1883, &[Protocol::Tcp]),
    ("mysql", 3306, &[Protocol::Tcp]),
    ("postgresql", 5432, &[Protocol::Tcp]),
    ("x11", 6000, &[Protocol::Tcp]),
    ("http-alt", 8080, &[Protocol::Tcp]),
];

impl ServiceDb {
    /// The built-in table.
    pub fn built_in() -> Self {
        let mut db = ServiceDb {
            source: Some(ServiceSource::BuiltIn),
            ..ServiceDb::default()
        };
        for (name, port, protocols) in BUILT_IN {
            for p in *protocols {
                db.insert(name, *port, *p, true);
            }
        }
        db
    }

    /// Parses the text of a services file (`name port/proto [aliases...] [# comment]`).
    pub fn parse(text: &str) -> Self {
        let mut db = ServiceDb {
            source: Some(ServiceSource::System),
            ..ServiceDb::default()
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            let proto = match proto {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                _ => continue,
            };
            db.insert(name, port, proto, true);
            for alias in words {
                db.insert(alias, port, proto, false);
            }
        }
        db
    }

    fn insert(&mut self, name: &str, port: u16, proto: Protocol, main_name: bool) {
        self.by_name
            .entry((name.to_ascii_lowercase(), proto))
            .or_insert(port);
        if main_name {
            self.by_port
                .entry((port, proto))
                .or_insert_with(|| name.to_owned());
        }
    }

    /// The port of a service name (case-insensitive), e.g. `("http", Tcp)` → 80.
    pub fn port(&self, name: &str, proto: Protocol) -> Option<u16> {
        self.by_name
            .get(&(name.trim().to_ascii_lowercase(), proto))
            .copied()
    }

    /// The main name of the service on a port, e.g. `(53, Udp)` → "domain".
    pub fn name(&self, port: u16, proto: Protocol) -> Option<&str> {
        self.by_port.get(&(port, proto)).map(String::as_str)
    }

    /// Where this table came from.
    pub fn source(&self) -> ServiceSource {
        self.source.unwrap_or(ServiceSource::BuiltIn)
    }

    /// How many names (with aliases) it knows.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when it knows no names.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The system's services database, read once.
pub fn system() -> &'static ServiceDb {
    static DB: OnceLock<ServiceDb> = OnceLock::new();
    DB.get_or_init(|| match std::fs::read_to_string("/etc/services") {
        Ok(text) => {
            let db = ServiceDb::parse(&text);
            if db.is_empty() {
                ServiceDb::built_in()
            } else {
                db
            }
        }
        Err(_) => ServiceDb::built_in(),
    })
}

/// A port the user typed, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// The port number.
    pub port: u16,
    /// The service name it was given as, or the known name of that port.
    pub service: Option<String>,
    /// True if the user typed a name rather than a number.
    pub from_name: bool,
}

/// Why a port field's text is not a usable port. `Display` is the sentence shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Nothing typed.
    #[error("Enter a port: a number from 1 to 65535, or a service name such as http.")]
    Empty,
    /// A number outside 0..=65535 (or negative).
    #[error("{0} is not a port: ports go from 0 to 65535.")]
    OutOfRange(String),
    /// Port 0 where a real port is needed.
    #[error(
        "Port 0 means \"let the system choose\", which only works when listening; enter the port to {0}."
    )]
    ZeroNotAllowed(&'static str),
    /// Neither a number nor a known service name.
    #[error("\"{name}\" is not a number, and no {proto} service has that name.")]
    UnknownService {
        /// What was typed.
        name: String,
        /// The protocol it was looked up for.
        proto: Protocol,
    },
}

/// Whether 0 is acceptable ("any port" when binding) or not (when connecting or sending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortUse {
    /// Listening or binding: 0 means the system chooses.
    Bind,
    /// Connecting or sending: a real port is required.
    Connect,
}

/// Parses what a user typed in a port field: a number, or a service name for `proto`.
pub fn parse_port(input: &str, proto: Protocol, usage: PortUse) -> Result<PortSpec, PortError> {
    parse_port_with(system(), input, proto, usage)
}

/// [`parse_port`] against a given database.
pub fn parse_port_with(
    db: &ServiceDb,
    input: &str,
    proto: Protocol,
    usage: PortUse,
) -> Result<PortSpec, PortError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(PortError::Empty);
    }
    let numeric = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()) {
        let port = match text.parse::<u16>() {
            Ok(p) if !text.starts_with('-') => p,
            _ => return Err(PortError::OutOfRange(text.to_owned())),
        };
        if port == 0 && usage == PortUse::Connect {
            return Err(PortError::ZeroNotAllowed(match proto {
                Protocol::Tcp => "connect to",
                Protocol::Udp => "send to",
            }));
        }
        return Ok(PortSpec {
            port,
            service: db.name(port, proto).map(ToOwned::to_owned),
            from_name: false,
        });
    }
    match db.port(text, proto) {
        Some(port) => Ok(PortSpec {
            port,
            service: Some(text.to_ascii_lowercase()),
            from_name: true,
        }),
        None => Err(PortError::UnknownService {
            name: text.to_owned(),
            proto,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_names_and_errors() {
        let db = ServiceDb::built_in();
        let p = |s| parse_port_with(&db, s, Protocol::Tcp, PortUse::Connect);
        assert_eq!(p("80").map(|s| s.port), Ok(80));
        assert_eq!(p("http").map(|s| s.port), Ok(80));
        assert_eq!(p(" HTTP ").map(|s| s.port), Ok(80));
        assert_eq!(p(""), Err(PortError::Empty));
        assert_eq!(p("65536"), Err(PortError::OutOfRange("65536".into())));
        assert_eq!(p("-1"), Err(PortError::OutOfRange("-1".into())));
        assert!(matches!(p("80a"), Err(PortError::UnknownService { .. })));
        assert!(matches!(p("0"), Err(PortError::ZeroNotAllowed(_))));
        let bind = parse_port_with(&db, "0", Protocol::Tcp, PortUse::Bind);
        assert_eq!(bind.map(|s| s.port), Ok(0));
        let domain = parse_port_with(&db, "domain", Protocol::Udp, PortUse::Connect);
        assert_eq!(domain.map(|s| s.port), Ok(53));
    }

    #[test]
    fn reads_a_services_file_with_aliases() {
        let db = ServiceDb::parse(
            "# comment\nhttp\t\t80/tcp\t\twww\t# WorldWideWeb HTTP\ndomain 53/udp\nbad line\n",
        );
        assert_eq!(db.port("www", Protocol::Tcp), Some(80));
        assert_eq!(db.name(80, Protocol::Tcp), Some("http"));
        assert_eq!(db.port("domain", Protocol::Udp), Some(53));
        assert_eq!(db.port("domain", Protocol::Tcp), None);
        assert_eq!(db.source(), ServiceSource::System);
    }
}
