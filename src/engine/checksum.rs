//! Checksums appended to what is sent: the CRCs devices use (from the `crc` crate's catalogue,
//! not hand-made tables) and the two one-byte sums.

use std::fmt;

use crc::{CRC_16_IBM_3740, CRC_16_MODBUS, CRC_16_XMODEM, CRC_32_ISO_HDLC, Crc};

const MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);
/// CRC-16/CCITT-FALSE is the catalogue's CRC-16/IBM-3740 (poly 0x1021, init 0xFFFF).
const CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);
const XMODEM: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// A checksum to append to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Checksum {
    /// CRC-16/MODBUS, appended low byte first, as Modbus RTU puts it on the wire.
    Crc16Modbus,
    /// CRC-16/CCITT-FALSE, appended high byte first.
    Crc16CcittFalse,
    /// CRC-16/XMODEM, appended high byte first.
    Crc16Xmodem,
    /// CRC-32 (the zip/Ethernet one), appended high byte first.
    Crc32,
    /// XOR of every byte.
    Xor8,
    /// Sum of every byte, modulo 256.
    Sum8,
}

impl Checksum {
    /// Every checksum, in the order menus list them.
    pub const ALL: [Checksum; 6] = [
        Checksum::Crc16Modbus,
        Checksum::Crc16CcittFalse,
        Checksum::Crc16Xmodem,
        Checksum::Crc32,
        Checksum::Xor8,
        Checksum::Sum8,
    ];

    /// The name the command line takes (`crc16-modbus`, …).
    pub fn name(self) -> &'static str {
        match self {
            Checksum::Crc16Modbus => "crc16-modbus",
            Checksum::Crc16CcittFalse => "crc16-ccitt",
            Checksum::Crc16Xmodem => "crc16-xmodem",
            Checksum::Crc32 => "crc32",
            Checksum::Xor8 => "xor8",
            Checksum::Sum8 => "sum8",
        }
    }

    /// The checksum named `name` (as [`Checksum::name`] writes it; letter case ignored).
    pub fn from_name(name: &str) -> Result<Self, String> {
        let wanted = name.trim().to_ascii_lowercase();
        Checksum::ALL
            .into_iter()
            .find(|c| c.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Checksum::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "\"{name}\" is not a checksum this program knows: use one of {}.",
                    names.join(", ")
                )
            })
    }

    /// The checksum's bytes over `data`, in the order they go on the wire.
    pub fn compute(self, data: &[u8]) -> Vec<u8> {
        match self {
            Checksum::Crc16Modbus => MODBUS.checksum(data).to_le_bytes().to_vec(),
            Checksum::Crc16CcittFalse => CCITT_FALSE.checksum(data).to_be_bytes().to_vec(),
            Checksum::Crc16Xmodem => XMODEM.checksum(data).to_be_bytes().to_vec(),
            Checksum::Crc32 => CRC32.checksum(data).to_be_bytes().to_vec(),
            Checksum::Xor8 => vec![data.iter().fold(0, |acc, b| acc ^ b)],
            Checksum::Sum8 => vec![data.iter().fold(0_u8, |acc, b| acc.wrapping_add(*b))],
        }
    }

    /// `data` with its checksum appended.
    pub fn append(self, data: &mut Vec<u8>) {
        let sum = self.compute(data);
        data.extend_from_slice(&sum);
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modbus_request_gets_its_crc_low_byte_first() {
        let mut request = vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x0a];
        Checksum::Crc16Modbus.append(&mut request);
        assert_eq!(request, [0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd]);
    }

    #[test]
    fn every_check_value_over_123456789() {
        let check = b"123456789";
        let expected: [(Checksum, &[u8]); 6] = [
            // The catalogue's check values, in wire order.
            (Checksum::Crc16Modbus, &[0x37, 0x4b]),
            (Checksum::Crc16CcittFalse, &[0x29, 0xb1]),
            (Checksum::Crc16Xmodem, &[0x31, 0xc3]),
            (Checksum::Crc32, &[0xcb, 0xf4, 0x39, 0x26]),
            (Checksum::Xor8, &[0x31]),
            (Checksum::Sum8, &[0xdd]),
        ];
        for (checksum, value) in expected {
            assert_eq!(checksum.compute(check), value, "{checksum}");
        }
    }

    #[test]
    fn names_round_trip_and_a_wrong_one_lists_the_right_ones() {
        for c in Checksum::ALL {
            assert_eq!(Checksum::from_name(c.name()), Ok(c));
        }
        assert_eq!(Checksum::from_name("CRC32"), Ok(Checksum::Crc32));
        let error = Checksum::from_name("md5").unwrap_err();
        assert!(
            error.contains("crc16-modbus") && error.contains("\"md5\""),
            "{error}"
        );
    }
}
