//! The DBN prelude and metadata: decoded as far as an MBO reader needs (version, schema,
//! ts_out), and checked as databento_dbn's decoder checks it, with its messages, so that a
//! corrupt header is reported as the Python reader reports it ("corrupt DBN metadata (...)").
//!
//! Layout (offsets from the start of the metadata, after the 8-byte prelude `DBN`, version,
//! u32 length): dataset char[16]; schema u16 (0 = mbo, 0xFFFF = mixed); start, end, limit u64;
//! v1 only: record_count u64; stype_in, stype_out, ts_out u8; v2/v3: symbol_cstr_len u16
//! (v1: 22); reserved to 100; schema_definition_length u32; then symbols, partial, not_found
//! (u32 count + fixed-length strings each) and the symbol mappings.

/// The prelude: `DBN`, the version byte, the metadata's length (u32 LE).
pub const PRELUDE_BYTES: usize = 8;
const FIXED_BYTES: usize = 100; // databento_dbn's METADATA_FIXED_LEN
const NULL_SCHEMA: u16 = 0xFFFF;
const NULL_STYPE: u8 = 0xFF;
const STYPES: u8 = 16; // SType values 0..=15 are known
const V1_SYMBOL_CSTR_LEN: usize = 22;

/// Schema names by value, as databento_dbn prints them.
const SCHEMAS: [&str; 20] = [
    "mbo",
    "mbp-1",
    "mbp-10",
    "tbbo",
    "trades",
    "ohlcv-1s",
    "ohlcv-1m",
    "ohlcv-1h",
    "ohlcv-1d",
    "definition",
    "statistics",
    "status",
    "imbalance",
    "ohlcv-eod",
    "cmbp-1",
    "cbbo-1s",
    "cbbo-1m",
    "tcbbo",
    "bbo-1s",
    "bbo-1m",
];

/// What the reader keeps of the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    pub version: u8,
    /// The schema's name; None for a file of mixed schemas.
    pub schema: Option<&'static str>,
    /// Each record is followed by 8 bytes of gateway send time.
    pub ts_out: bool,
}

/// The prelude's magic, version and metadata length; None when it is not a DBN prelude.
pub fn prelude(head: &[u8]) -> Option<(u8, u32)> {
    if head.len() < PRELUDE_BYTES || &head[..3] != b"DBN" {
        return None;
    }
    Some((head[3], u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"))))
}

fn decoding(message: impl std::fmt::Display) -> String {
    format!("decoding error: {message}")
}

/// Decode the metadata (`body`, the bytes after the prelude) of a file of `version` 1, 2 or 3;
/// the error is databento_dbn's message.
pub fn decode(version: u8, body: &[u8]) -> Result<Metadata, String> {
    if body.len() < FIXED_BYTES {
        return Err(decoding("invalid DBN metadata. Metadata length shorter than fixed length."));
    }
    std::str::from_utf8(&body[..16])
        .map_err(|e| format!("UTF-8 error: {e:?} while reading dataset from metadata"))?;
    let raw_schema = u16::from_le_bytes([body[16], body[17]]);
    let schema = match raw_schema {
        NULL_SCHEMA => None,
        s if (s as usize) < SCHEMAS.len() => Some(SCHEMAS[s as usize]),
        _ => {
            let bytes = [body[16], body[17]];
            return Err(format!("couldn't convert {bytes:?} to dbn::enums::Schema"));
        }
    };
    let mut pos = 16 + 2 + 3 * 8; // dataset, schema, start, end, limit
    if version == 1 {
        pos += 8; // the deprecated record_count
    }
    let (stype_in, stype_out, ts_out) = (body[pos], body[pos + 1], body[pos + 2] != 0);
    for (stype, may_be_null) in [(stype_in, true), (stype_out, false)] {
        if stype >= STYPES && !(may_be_null && stype == NULL_STYPE) {
            return Err(format!("couldn't convert {stype} to dbn::enums::SType"));
        }
    }
    pos += 3;
    let cstr_len = if version == 1 {
        V1_SYMBOL_CSTR_LEN
    } else {
        u16::from_le_bytes([body[pos], body[pos + 1]]) as usize
    };
    // databento_dbn panics on 100 to 103 bytes of metadata (it reads past its buffer here);
    // this reports them like the other short ones.
    let schema_definition = read_u32(body, FIXED_BYTES)
        .ok_or_else(|| decoding("unexpected end of metadata buffer in symbol cstr"))?;
    if schema_definition != 0 {
        return Err(decoding("this version of dbn can't parse schema definitions"));
    }
    let mut pos = FIXED_BYTES + 4;
    for _ in ["symbols", "partial", "not_found"] {
        symbol_list(body, cstr_len, &mut pos)?;
    }
    symbol_mappings(body, cstr_len, &mut pos)?;
    Ok(Metadata { version, schema, ts_out })
}

fn read_u32(body: &[u8], pos: usize) -> Option<u32> {
    body.get(pos..pos + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}

/// How many items of `size` bytes fit in `remaining` (none of size 0, as databento_dbn has it).
fn fitting(remaining: usize, size: usize) -> usize {
    remaining.checked_div(size).unwrap_or(0)
}

fn symbol(body: &[u8], cstr_len: usize, pos: &mut usize) -> Result<(), std::str::Utf8Error> {
    let text = &body[*pos..*pos + cstr_len];
    *pos += cstr_len;
    std::str::from_utf8(text).map(|_| ())
}

fn symbol_list(body: &[u8], cstr_len: usize, pos: &mut usize) -> Result<(), String> {
    let count = read_u32(body, *pos)
        .ok_or_else(|| decoding("unexpected end of metadata buffer in symbol cstr"))?
        as usize;
    *pos += 4;
    let remaining = body.len() - *pos;
    let fit = fitting(remaining, cstr_len);
    if count > fit {
        return Err(decoding(format!(
            "symbol list count declares {count} but only {fit} fit in the remaining {remaining} bytes"
        )));
    }
    for i in 0..count {
        symbol(body, cstr_len, pos)
            .map_err(|e| format!("UTF-8 error: {e:?} while decoding symbol at index {i}"))?;
    }
    Ok(())
}

fn symbol_mappings(body: &[u8], cstr_len: usize, pos: &mut usize) -> Result<(), String> {
    let count = read_u32(body, *pos)
        .ok_or_else(|| decoding("unexpected end of metadata buffer in symbol mapping"))?
        as usize;
    *pos += 4;
    let remaining = body.len() - *pos;
    let fit = fitting(remaining, cstr_len + 4);
    if count > fit {
        return Err(decoding(format!(
            "symbol mapping count declares {count} but only {fit} fit in the remaining {remaining} bytes"
        )));
    }
    let interval_len = 8 + cstr_len;
    for idx in 0..count {
        if *pos + cstr_len + 4 > body.len() {
            return Err(decoding(format!(
                "unexpected end of metadata buffer while parsing symbol mapping at index {idx}"
            )));
        }
        symbol(body, cstr_len, pos)
            .map_err(|e| format!("UTF-8 error: {e:?} while parsing raw symbol"))?;
        let intervals = read_u32(body, *pos).expect("checked above") as usize;
        *pos += 4;
        let remaining = body.len() - *pos;
        let fit = fitting(remaining, interval_len);
        if intervals > fit {
            return Err(decoding(format!(
                "interval count of symbol mapping at index {idx} declares {intervals} but only \
                 {fit} fit in the remaining {remaining} bytes"
            )));
        }
        for i in 0..intervals {
            for which in ["start", "end"] {
                let raw = read_u32(body, *pos).expect("checked above");
                *pos += 4;
                check_date(raw).map_err(|e| {
                    decoding(format!(
                        "{e} while parsing {which} date of mapping interval at index {i} within \
                         mapping at index {idx}"
                    ))
                })?;
            }
            symbol(body, cstr_len, pos).map_err(|e| {
                format!(
                    "UTF-8 error: {e:?} while parsing symbol for mapping interval at index {i} \
                     within mapping at index {idx}"
                )
            })?;
        }
    }
    Ok(())
}

/// A mapping date, YYYYMMDD as a u32, checked as databento_dbn (and the `time` crate) do.
fn check_date(raw: u32) -> Result<(), String> {
    let (year, month, day) = ((raw / 10_000) as i32, raw % 10_000 / 100, raw % 100);
    if !(1..=12).contains(&month) {
        return Err(format!(
            "ComponentRange {{ name: \"month\", is_conditional: false }} while parsing {raw} into date"
        ));
    }
    let range = |name: &str, conditional: bool| {
        format!(
            "couldn't convert {raw} to a valid date: ComponentRange {{ name: \"{name}\", \
             is_conditional: {conditional} }}"
        )
    };
    if !(-9999..=9999).contains(&year) {
        return Err(range("year", false));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days {
        return Err(range("day", true));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v3 metadata body with one symbol and no mappings (as harness/writer.py writes it).
    fn body_v3() -> Vec<u8> {
        let mut b = vec![0u8; 104];
        b[..4].copy_from_slice(b"TEST");
        b[42] = 1; // stype_in raw_symbol
        b[45..47].copy_from_slice(&71u16.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        let mut sym = b"ESH4".to_vec();
        sym.resize(71, 0);
        b.extend_from_slice(&sym);
        b.extend_from_slice(&[0; 13]); // partial, not_found, mappings; 1 byte of v3 padding
        b
    }

    #[test]
    fn decodes_schema_and_ts_out_by_version() {
        let b = body_v3();
        assert_eq!(decode(3, &b), Ok(Metadata { version: 3, schema: Some("mbo"), ts_out: false }));
        let mut t = b.clone();
        t[44] = 1;
        assert!(decode(3, &t).unwrap().ts_out);
        let mut m = b.clone();
        m[16] = 2;
        assert_eq!(decode(3, &m).unwrap().schema, Some("mbp-10"));
        m[16..18].copy_from_slice(&0xFFFFu16.to_le_bytes());
        assert_eq!(decode(3, &m).unwrap().schema, None);
    }

    #[test]
    fn reports_corruption_in_databento_dbn_words() {
        let mut b = body_v3();
        b[16] = 50;
        assert_eq!(decode(3, &b).unwrap_err(), "couldn't convert [50, 0] to dbn::enums::Schema");
        let short = &body_v3()[..99];
        assert!(decode(3, short).unwrap_err().contains("shorter than fixed length"));
        let mut c = body_v3();
        c[104..108].copy_from_slice(&500u32.to_le_bytes());
        assert_eq!(
            decode(3, &c).unwrap_err(),
            "decoding error: symbol list count declares 500 but only 1 fit in the remaining 84 bytes"
        );
        assert!(check_date(20240229).is_ok());
        assert!(check_date(20230229).unwrap_err().contains("\"day\", is_conditional: true"));
        assert!(check_date(0).unwrap_err().contains("\"month\""));
    }
}
