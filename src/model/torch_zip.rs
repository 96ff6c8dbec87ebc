//! The zip container that `torch.save` writes (PyTorch's `PyTorchStreamWriter`, built on miniz):
//! a central directory of entries `<archive>/data.pkl`, `<archive>/data/<storage key>`, …, each
//! stored uncompressed with its payload aligned to 64 bytes; for large archives a zip64 end record
//! and locator sit between the central directory and the classic end record.
//!
//! Why our own reader: zip 9.5.1 trusts the classic end record when none of its fields is a zip64
//! sentinel, and then takes the central directory to start `cd_size` bytes before that record.
//! torch writes the zip64 end record (56 bytes) and its locator (20 bytes) in between even when
//! every 32-bit field is exact, so that guess lands 76 bytes into the directory. When the first
//! directory entry happens to be 76 bytes long (a 30-character `<archive>/data.pkl` name, as for
//! a file saved as `esm1b_t33_650M_random.pt`) a directory signature is found there, the whole
//! archive is shifted by 76 bytes and reading fails with "Invalid Central Directory header".
//! Here the zip64 end record is used whenever its locator is present, and the directory is
//! checked to start where its recorded offset says.
//!
//! Only what a reader of torch files needs: the directory, stored and deflated entries, byte
//! ranges of stored entries read in place (no whole-entry copies), CRC-32 of whole entries.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const END_RECORD_LEN: u64 = 22;
const LOCATOR_LEN: u64 = 20;
const CENTRAL_HEADER_LEN: usize = 46;
const LOCAL_HEADER_LEN: usize = 30;
/// The classic end record may be followed by a comment of up to 65,535 bytes.
const MAX_COMMENT_LEN: u64 = 65_535;

/// What is wrong with a torch zip archive.
#[derive(Debug, thiserror::Error)]
pub enum TorchZipError {
    /// Reading the file failed.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    /// No end-of-central-directory record in the last 64 KiB.
    #[error("not a zip archive (no end-of-central-directory record; truncated?)")]
    NoEndRecord,
    /// The directory or an entry header is inconsistent.
    #[error("damaged zip archive: {0}")]
    Damaged(String),
    /// An entry that is neither stored nor deflated.
    #[error("zip entry {name} uses compression method {method} (only stored and deflate are read)")]
    UnsupportedCompression {
        /// Entry name.
        name: String,
        /// Zip compression method number.
        method: u16,
    },
    /// A whole entry's bytes do not match its CRC-32.
    #[error("zip entry {name} is corrupt (CRC-32 {actual:08x}, directory says {expected:08x})")]
    BadCrc {
        /// Entry name.
        name: String,
        /// CRC-32 of the bytes read.
        actual: u32,
        /// CRC-32 recorded in the directory.
        expected: u32,
    },
    /// An entry name that the archive does not have.
    #[error("zip entry {0} is missing")]
    MissingEntry(String),
}

type Result<T> = std::result::Result<T, TorchZipError>;

fn damaged(reason: impl Into<String>) -> TorchZipError {
    TorchZipError::Damaged(reason.into())
}

/// One entry of the central directory, with its payload located.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    /// Name inside the archive, e.g. `esm1b_t33_650M_UR50S/data/42`.
    pub name: String,
    /// Zip compression method: 0 stored, 8 deflate.
    method: u16,
    /// CRC-32 of the uncompressed bytes (torch may write 0 for records it reserved unchecked).
    crc32: u32,
    /// Bytes in the archive.
    compressed_size: u64,
    /// Bytes once uncompressed.
    pub size: u64,
    /// Offset of the local header from the start of the file.
    local_header_offset: u64,
}

/// An opened torch zip archive: the directory in memory, payloads read on demand.
#[derive(Debug)]
pub struct TorchZip {
    file: File,
    path: PathBuf,
    file_len: u64,
    entries: Vec<ZipEntry>,
    by_name: HashMap<String, usize>,
}

/// The central directory's place, from the end records.
#[derive(Debug, Clone, Copy)]
struct DirectoryBounds {
    entries: u64,
    size: u64,
    offset: u64,
}

impl TorchZip {
    /// Opens `path` and reads its central directory.
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = File::open(path)?;
        let file_len = file.metadata()?.len();
        let bounds = find_directory(&mut file, file_len)?;
        let entries = read_directory(&mut file, file_len, bounds)?;
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Ok(Self {
            file,
            path: path.to_owned(),
            file_len,
            entries,
            by_name,
        })
    }

    /// The file this archive was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry, in directory order.
    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// The entry called `name`.
    pub fn entry(&self, name: &str) -> Result<&ZipEntry> {
        self.by_name
            .get(name)
            .map(|&i| &self.entries[i])
            .ok_or_else(|| TorchZipError::MissingEntry(name.to_owned()))
    }

    /// The whole uncompressed content of `entry`, checked against its CRC-32.
    pub fn read_all(&self, entry: &ZipEntry) -> Result<Vec<u8>> {
        let mut reader = self.open_entry(entry, 0)?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size).unwrap_or(0));
        reader.read_to_end(&mut bytes)?;
        if bytes.len() as u64 != entry.size {
            return Err(damaged(format!(
                "entry {} holds {} bytes, the directory says {}",
                entry.name,
                bytes.len(),
                entry.size
            )));
        }
        entry.check_crc(crc32fast::hash(&bytes))?;
        Ok(bytes)
    }

    /// A reader over `entry`'s uncompressed bytes from byte `skip` on. For stored entries (all
    /// that torch writes) this seeks straight to the payload; deflated entries are decoded and
    /// the first `skip` bytes discarded.
    pub fn open_entry(&self, entry: &ZipEntry, skip: u64) -> Result<Box<dyn Read + '_>> {
        let start = self.payload_offset(entry)?;
        let mut file = &self.file;
        match entry.method {
            0 => {
                let skip = skip.min(entry.size);
                file.seek(SeekFrom::Start(start + skip))?;
                Ok(Box::new(file.take(entry.size - skip)))
            }
            8 => {
                file.seek(SeekFrom::Start(start))?;
                let mut decoder =
                    flate2::read::DeflateDecoder::new(file.take(entry.compressed_size));
                io::copy(&mut (&mut decoder).take(skip), &mut io::sink())?;
                Ok(Box::new(decoder.take(entry.size.saturating_sub(skip))))
            }
            method => Err(TorchZipError::UnsupportedCompression {
                name: entry.name.clone(),
                method,
            }),
        }
    }

    /// Where `entry`'s payload starts: after its local header, whose name and extra field
    /// lengths may differ from the directory's (torch pads the local extra field for alignment).
    fn payload_offset(&self, entry: &ZipEntry) -> Result<u64> {
        let mut header = [0u8; LOCAL_HEADER_LEN];
        let mut file = &self.file;
        file.seek(SeekFrom::Start(entry.local_header_offset))?;
        file.read_exact(&mut header).map_err(|_| {
            damaged(format!(
                "local header of {} lies past the end of the file (truncated?)",
                entry.name
            ))
        })?;
        if le_u32(&header, 0) != LOCAL_SIGNATURE {
            return Err(damaged(format!(
                "no local header for {} at offset {}",
                entry.name, entry.local_header_offset
            )));
        }
        let start = entry.local_header_offset
            + LOCAL_HEADER_LEN as u64
            + u64::from(le_u16(&header, 26))
            + u64::from(le_u16(&header, 28));
        if start + entry.compressed_size > self.file_len {
            return Err(damaged(format!(
                "entry {} ends at byte {}, past the end of the {}-byte file (truncated?)",
                entry.name,
                start + entry.compressed_size,
                self.file_len
            )));
        }
        Ok(start)
    }
}

impl ZipEntry {
    /// Compares the CRC-32 of this entry's whole uncompressed content with the directory's.
    /// A recorded 0 is not checked: torch writes 0 for records it reserved without a CRC.
    pub fn check_crc(&self, actual: u32) -> Result<()> {
        if self.crc32 == 0 || actual == self.crc32 {
            Ok(())
        } else {
            Err(TorchZipError::BadCrc {
                name: self.name.clone(),
                actual,
                expected: self.crc32,
            })
        }
    }
}

fn le_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

fn read_at(file: &mut File, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut buf)?;
    Ok(buf)
}

/// Locates the central directory from the end records: the classic one (searched backwards
/// over the possible comment), then the zip64 one through its locator when present.
fn find_directory(file: &mut File, file_len: u64) -> Result<DirectoryBounds> {
    if file_len < END_RECORD_LEN {
        return Err(TorchZipError::NoEndRecord);
    }
    let window = file_len.min(END_RECORD_LEN + MAX_COMMENT_LEN);
    let tail = read_at(file, file_len - window, window as usize)?;
    let end_at = (0..=tail.len() - END_RECORD_LEN as usize)
        .rev()
        .find(|&i| {
            le_u32(&tail, i) == END_SIGNATURE
                && i + END_RECORD_LEN as usize + usize::from(le_u16(&tail, i + 20)) <= tail.len()
        })
        .ok_or(TorchZipError::NoEndRecord)?;
    let end = &tail[end_at..];
    let end_offset = file_len - window + end_at as u64;
    let classic = DirectoryBounds {
        entries: u64::from(le_u16(end, 10)),
        size: u64::from(le_u32(end, 12)),
        offset: u64::from(le_u32(end, 16)),
    };
    if le_u16(end, 4) != 0 || le_u16(end, 6) != 0 {
        return Err(damaged("multi-disk archives are not supported"));
    }
    let has_sentinel = classic.entries == u64::from(u16::MAX)
        || classic.size == u64::from(u32::MAX)
        || classic.offset == u64::from(u32::MAX);
    let locator = if end_offset >= LOCATOR_LEN {
        read_at(file, end_offset - LOCATOR_LEN, LOCATOR_LEN as usize)?
    } else {
        Vec::new()
    };
    if locator.len() < LOCATOR_LEN as usize || le_u32(&locator, 0) != ZIP64_LOCATOR_SIGNATURE {
        if has_sentinel {
            return Err(damaged(
                "the end record holds zip64 placeholders but there is no zip64 end record",
            ));
        }
        return Ok(classic);
    }
    let zip64_offset = le_u64(&locator, 8);
    if zip64_offset + 56 > end_offset - LOCATOR_LEN {
        return Err(damaged(format!(
            "zip64 end record offset {zip64_offset} is not before its locator"
        )));
    }
    let record = read_at(file, zip64_offset, 56)?;
    if le_u32(&record, 0) != ZIP64_END_SIGNATURE {
        return Err(damaged(format!(
            "no zip64 end record at offset {zip64_offset}, where its locator points"
        )));
    }
    Ok(DirectoryBounds {
        entries: le_u64(&record, 32),
        size: le_u64(&record, 40),
        offset: le_u64(&record, 48),
    })
}

/// Reads every central directory entry; the directory must lie inside the file and start with a
/// directory signature exactly at its recorded offset (torch writes no prefix before the archive).
fn read_directory(
    file: &mut File,
    file_len: u64,
    bounds: DirectoryBounds,
) -> Result<Vec<ZipEntry>> {
    if bounds.offset.saturating_add(bounds.size) > file_len {
        return Err(damaged(format!(
            "central directory ({} bytes at offset {}) runs past the end of the {file_len}-byte file (truncated?)",
            bounds.size, bounds.offset
        )));
    }
    let max_entries = bounds.size / CENTRAL_HEADER_LEN as u64;
    if bounds.entries > max_entries {
        return Err(damaged(format!(
            "{} entries cannot fit in a {}-byte central directory",
            bounds.entries, bounds.size
        )));
    }
    let directory = read_at(file, bounds.offset, bounds.size as usize)?;
    let mut entries = Vec::with_capacity(bounds.entries as usize);
    let mut at = 0usize;
    for index in 0..bounds.entries {
        let (entry, next) = parse_central_header(&directory, at).map_err(|reason| {
            damaged(format!(
                "central directory entry {index} at offset {}: {reason}",
                bounds.offset + at as u64
            ))
        })?;
        entries.push(entry);
        at = next;
    }
    Ok(entries)
}

/// One central directory header at `at` in `directory`: the entry and where the next starts.
fn parse_central_header(
    directory: &[u8],
    at: usize,
) -> std::result::Result<(ZipEntry, usize), String> {
    let fixed = directory
        .get(at..at + CENTRAL_HEADER_LEN)
        .ok_or("header runs past the directory's end")?;
    if le_u32(fixed, 0) != CENTRAL_SIGNATURE {
        return Err(format!("bad signature {:08x}", le_u32(fixed, 0)));
    }
    let name_len = usize::from(le_u16(fixed, 28));
    let extra_len = usize::from(le_u16(fixed, 30));
    let comment_len = usize::from(le_u16(fixed, 32));
    let name_start = at + CENTRAL_HEADER_LEN;
    let next = name_start + name_len + extra_len + comment_len;
    let variable = directory
        .get(name_start..next)
        .ok_or("name or extra field runs past the directory's end")?;
    let name = String::from_utf8_lossy(&variable[..name_len]).into_owned();
    let mut size = u64::from(le_u32(fixed, 24));
    let mut compressed_size = u64::from(le_u32(fixed, 20));
    let mut local_header_offset = u64::from(le_u32(fixed, 42));
    let extra = &variable[name_len..name_len + extra_len];
    apply_zip64_extra(
        extra,
        [&mut size, &mut compressed_size, &mut local_header_offset],
    )
    .map_err(|reason| format!("{name}: {reason}"))?;
    let entry = ZipEntry {
        name,
        method: le_u16(fixed, 10),
        crc32: le_u32(fixed, 16),
        compressed_size,
        size,
        local_header_offset,
    };
    Ok((entry, next))
}

/// Replaces the 32-bit sentinels (0xFFFFFFFF) among `[size, compressed size, local header
/// offset]` by the values of the zip64 extra field (id 1), which lists exactly those, in order.
fn apply_zip64_extra(extra: &[u8], fields: [&mut u64; 3]) -> std::result::Result<(), String> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = le_u16(extra, at);
        let len = usize::from(le_u16(extra, at + 2));
        let data = extra
            .get(at + 4..at + 4 + len)
            .ok_or("extra field runs past its end")?;
        if id == 1 {
            let mut read = 0;
            for field in fields {
                if *field == u64::from(u32::MAX) {
                    if read + 8 > data.len() {
                        return Err("zip64 extra field is too short".into());
                    }
                    *field = le_u64(data, read);
                    read += 8;
                }
            }
            return Ok(());
        }
        at += 4 + len;
    }
    if fields.iter().any(|f| **f == u64::from(u32::MAX)) {
        return Err("a size or offset is 0xFFFFFFFF but there is no zip64 extra field".into());
    }
    Ok(())
}
