//! torch `.pt` files in every zip layout torch writes, without multi-GB fixtures: the tiny
//! fair-esm fixture is repacked here the way `torch.save` packs a 2.6 GB ESM-1b (zip64 end
//! records after exact 32-bit ones, a 30-character `<archive>/data.pkl` name: the layout that
//! zip 9.5.1 misreads), with zip64 placeholders everywhere, with payloads past 4 GiB (a sparse
//! hole) and with more than 65,535 entries. Every layout must give the same weights as the
//! original; damaged ones must fail with an error naming the file and what is wrong.
//! Also: fairseq checkpoints carrying Adam's moments load without reading them.

mod common;

use std::collections::HashSet;
use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use common::{TestResult, fixture};
use esm_workbench::model::torch_zip::TorchZip;
use esm_workbench::model::{Checkpoint, ModelError};

/// How to lay out a repacked archive.
#[derive(Clone, Copy, Default)]
struct Layout {
    /// Folder name inside the archive (torch uses the file stem).
    archive: &'static str,
    /// Write a zip64 end record and locator before the classic end record, as torch does.
    zip64_end: bool,
    /// Put 0xFFFF / 0xFFFFFFFF placeholders in every 32-bit field, values in zip64 extras.
    placeholders: bool,
    /// A sparse hole of this many bytes before the first storage (pushes offsets past 4 GiB).
    hole_bytes: u64,
    /// Extra one-byte entries (to exceed the 65,535 entries of a classic directory).
    padding_entries: usize,
}

struct Written {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
}

const SENTINEL32: u32 = u32::MAX;

/// Writes the entries of `src` (renamed into `layout.archive`) to `dst` in `layout`.
fn repack(src: &Path, dst: &Path, layout: Layout) -> TestResult {
    let zip = TorchZip::open(src)?;
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in zip.entries() {
        let (_, rest) = entry.name.split_once('/').ok_or("entry without a folder")?;
        entries.push((format!("{}/{rest}", layout.archive), zip.read_all(entry)?));
    }
    for i in 0..layout.padding_entries {
        entries.push((format!("{}/padding/{i}", layout.archive), vec![i as u8]));
    }
    let mut out = File::create(dst)?;
    let mut written = Vec::with_capacity(entries.len());
    let mut holed = false;
    for (name, bytes) in &entries {
        if layout.hole_bytes > 0 && !holed && name.contains("/data/") {
            out.seek(SeekFrom::Current(layout.hole_bytes as i64))?;
            holed = true;
        }
        written.push(write_local(&mut out, name, bytes, layout)?);
    }
    let cd_offset = out.stream_position()?;
    for w in &written {
        write_central(&mut out, w, layout)?;
    }
    let cd_end = out.stream_position()?;
    write_end_records(
        &mut out,
        written.len() as u64,
        cd_end - cd_offset,
        cd_offset,
        layout,
    )?;
    Ok(())
}

/// A local header (payload aligned to 64 bytes with an extra field, as torch does) + payload.
fn write_local(
    out: &mut File,
    name: &str,
    bytes: &[u8],
    layout: Layout,
) -> std::io::Result<Written> {
    let offset = out.stream_position()?;
    let crc = crc32fast::hash(bytes);
    let size = bytes.len() as u64;
    let fixed = 30 + name.len() as u64 + 4;
    let pad = (64 - (offset + fixed) % 64) % 64;
    let size32 = if layout.placeholders {
        SENTINEL32
    } else {
        size as u32
    };
    let mut header = Vec::new();
    header.extend(0x0403_4b50u32.to_le_bytes());
    header.extend([20u8, 0, 8, 8, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
    header.extend(crc.to_le_bytes());
    header.extend(size32.to_le_bytes());
    header.extend(size32.to_le_bytes());
    header.extend((name.len() as u16).to_le_bytes());
    header.extend((4 + pad as u16).to_le_bytes());
    header.extend(name.as_bytes());
    header.extend(0x4246u16.to_le_bytes()); // torch's "FB" alignment padding
    header.extend((pad as u16).to_le_bytes());
    header.extend(std::iter::repeat_n(b'Z', pad as usize));
    out.write_all(&header)?;
    out.write_all(bytes)?;
    Ok(Written {
        name: name.to_owned(),
        crc,
        size,
        offset,
    })
}

fn write_central(out: &mut File, w: &Written, layout: Layout) -> std::io::Result<()> {
    let big_size = layout.placeholders || w.size >= u64::from(SENTINEL32);
    let big_offset = layout.placeholders || w.offset >= u64::from(SENTINEL32);
    let mut zip64 = Vec::new();
    if big_size {
        zip64.extend(w.size.to_le_bytes());
        zip64.extend(w.size.to_le_bytes());
    }
    if big_offset {
        zip64.extend(w.offset.to_le_bytes());
    }
    let mut extra = Vec::new();
    if !zip64.is_empty() {
        extra.extend(1u16.to_le_bytes());
        extra.extend((zip64.len() as u16).to_le_bytes());
        extra.extend(zip64);
    }
    let size32 = if big_size { SENTINEL32 } else { w.size as u32 };
    let offset32 = if big_offset {
        SENTINEL32
    } else {
        w.offset as u32
    };
    let mut h = Vec::new();
    h.extend(0x0201_4b50u32.to_le_bytes());
    h.extend([45u8, 0, 45, 0, 8, 8, 0, 0, 0, 0, 0, 0]);
    h.extend(w.crc.to_le_bytes());
    h.extend(size32.to_le_bytes());
    h.extend(size32.to_le_bytes());
    h.extend((w.name.len() as u16).to_le_bytes());
    h.extend((extra.len() as u16).to_le_bytes());
    h.extend([0u8; 10]); // comment length, disk, internal and external attributes
    h.extend(offset32.to_le_bytes());
    h.extend(w.name.as_bytes());
    h.extend(extra);
    out.write_all(&h)
}

fn write_end_records(
    out: &mut File,
    entries: u64,
    cd_size: u64,
    cd_offset: u64,
    layout: Layout,
) -> std::io::Result<()> {
    let zip64 = layout.zip64_end
        || layout.placeholders
        || entries > 0xFFFF
        || cd_offset >= u64::from(SENTINEL32);
    if zip64 {
        let record_at = out.stream_position()?;
        let mut r = Vec::new();
        r.extend(0x0606_4b50u32.to_le_bytes());
        r.extend(44u64.to_le_bytes());
        r.extend([45u8, 0, 45, 0]);
        r.extend([0u8; 8]); // disk numbers
        r.extend(entries.to_le_bytes());
        r.extend(entries.to_le_bytes());
        r.extend(cd_size.to_le_bytes());
        r.extend(cd_offset.to_le_bytes());
        r.extend(0x0706_4b50u32.to_le_bytes());
        r.extend(0u32.to_le_bytes());
        r.extend(record_at.to_le_bytes());
        r.extend(1u32.to_le_bytes());
        out.write_all(&r)?;
    }
    let entries16 = if layout.placeholders || entries > 0xFFFF {
        0xFFFF
    } else {
        entries as u16
    };
    let clamp = |v: u64| {
        if layout.placeholders || v >= u64::from(SENTINEL32) {
            SENTINEL32
        } else {
            v as u32
        }
    };
    let mut e = Vec::new();
    e.extend(0x0605_4b50u32.to_le_bytes());
    e.extend([0u8; 4]);
    e.extend(entries16.to_le_bytes());
    e.extend(entries16.to_le_bytes());
    e.extend(clamp(cd_size).to_le_bytes());
    e.extend(clamp(cd_offset).to_le_bytes());
    e.extend(0u16.to_le_bytes());
    out.write_all(&e)
}

/// Loads both files and checks that they hold the same config and bit-identical tensors.
fn assert_same_weights(original: &Path, repacked: &Path) -> TestResult {
    let a = Checkpoint::read(original)?;
    let b = Checkpoint::read(repacked)?;
    assert_eq!(a.config, b.config);
    assert_eq!(a.tensors.len(), b.tensors.len());
    for (name, ta) in &a.tensors {
        let tb = b
            .tensors
            .get(name)
            .ok_or_else(|| format!("{name} missing after repacking"))?;
        let (va, vb) = (
            ta.flatten_all()?.to_vec1::<f32>()?,
            tb.flatten_all()?.to_vec1::<f32>()?,
        );
        assert!(va == vb, "{name} differs after repacking");
    }
    Ok(())
}

/// The fixture with its regression file, repacked into `dir/<stem>.pt` in `layout`.
fn repacked_fixture(
    dir: &Path,
    stem: &str,
    layout: Layout,
) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let dst = dir.join(format!("{stem}.pt"));
    repack(&fixture("esm1b_tiny_t2.pt"), &dst, layout)?;
    std::fs::copy(
        fixture("esm1b_tiny_t2-contact-regression.pt"),
        dir.join(format!("{stem}-contact-regression.pt")),
    )?;
    Ok(dst)
}

#[test]
fn torchs_large_file_layout_loads() -> TestResult {
    // The layout of the 2,609,620,951-byte ESM-1b that did not open: exact classic end record,
    // zip64 end record + locator before it, a first directory entry of 46 + 30 = 76 bytes.
    let dir = tempfile::tempdir()?;
    let layout = Layout {
        archive: "esm1b_t33_650M_random",
        zip64_end: true,
        ..Layout::default()
    };
    let path = repacked_fixture(dir.path(), "esm1b_t33_650M_random", layout)?;
    let first = TorchZip::open(&path)?;
    assert_eq!(
        first.entries()[0].name.len(),
        30,
        "{}",
        first.entries()[0].name
    );
    assert_same_weights(&fixture("esm1b_tiny_t2.pt"), &path)
}

#[test]
fn zip64_placeholders_everywhere_load() -> TestResult {
    let dir = tempfile::tempdir()?;
    let layout = Layout {
        archive: "archive",
        placeholders: true,
        ..Layout::default()
    };
    let path = repacked_fixture(dir.path(), "placeholders", layout)?;
    assert_same_weights(&fixture("esm1b_tiny_t2.pt"), &path)
}

#[test]
fn storages_past_4_gib_load() -> TestResult {
    // A 4.5 GB sparse hole: offsets need the zip64 extra field; the file takes ~100 KB on disk.
    let dir = tempfile::tempdir()?;
    let layout = Layout {
        archive: "big",
        hole_bytes: 4_500_000_000,
        ..Layout::default()
    };
    let path = repacked_fixture(dir.path(), "big", layout)?;
    assert!(std::fs::metadata(&path)?.len() > 4_500_000_000);
    let zip = TorchZip::open(&path)?;
    assert!(zip.entries().iter().any(|e| e.name.contains("/data/")));
    assert_same_weights(&fixture("esm1b_tiny_t2.pt"), &path)
}

#[test]
fn more_than_65535_entries_load() -> TestResult {
    let dir = tempfile::tempdir()?;
    let layout = Layout {
        archive: "many",
        padding_entries: 70_000,
        ..Layout::default()
    };
    let path = repacked_fixture(dir.path(), "many", layout)?;
    assert!(TorchZip::open(&path)?.entries().len() > 70_000);
    assert_same_weights(&fixture("esm1b_tiny_t2.pt"), &path)
}

/// Byte offset of the payload of `entry_suffix` in `path` (searched by its bytes).
fn payload_offset(path: &Path, entry_suffix: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let zip = TorchZip::open(path)?;
    let entry = zip
        .entries()
        .iter()
        .find(|e| e.name.ends_with(entry_suffix))
        .ok_or("no such entry")?;
    let payload = zip.read_all(entry)?;
    let file = std::fs::read(path)?;
    file.windows(payload.len())
        .position(|w| w == payload.as_slice())
        .ok_or_else(|| "payload not found".into())
}

#[test]
fn a_corrupt_storage_is_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("corrupt.pt");
    std::fs::copy(fixture("esm1b_tiny_t2.pt"), &path)?;
    let at = payload_offset(&path, "/data/0")?;
    let mut bytes = std::fs::read(&path)?;
    bytes[at + 5] ^= 0x40;
    std::fs::write(&path, bytes)?;
    let err = Checkpoint::read(&path).expect_err("a flipped bit must be caught");
    let msg = format!(
        "{err:#} {}",
        std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(matches!(err, ModelError::BadTensor { .. }), "{msg}");
    assert!(
        msg.contains("corrupt.pt") && msg.contains("CRC-32"),
        "{msg}"
    );
    Ok(())
}

#[test]
fn a_wrong_directory_offset_is_a_clear_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("shifted.pt");
    let mut bytes = std::fs::read(fixture("esm1b_tiny_t2.pt"))?;
    let end = bytes.len() - 22;
    assert_eq!(bytes[end..end + 4], [0x50, 0x4b, 0x05, 0x06]);
    let offset = u32::from_le_bytes(bytes[end + 16..end + 20].try_into()?);
    bytes[end + 16..end + 20].copy_from_slice(&(offset - 10).to_le_bytes());
    // torch also writes a zip64 end record (found through the locator before the classic one).
    let locator = end - 20;
    if bytes[locator..locator + 4] == [0x50, 0x4b, 0x06, 0x07] {
        let record = u64::from_le_bytes(bytes[locator + 8..locator + 16].try_into()?) as usize;
        let field = record + 48;
        let offset = u64::from_le_bytes(bytes[field..field + 8].try_into()?);
        bytes[field..field + 8].copy_from_slice(&(offset - 10).to_le_bytes());
    }
    std::fs::write(&path, bytes)?;
    let msg = Checkpoint::read(&path)
        .expect_err("shifted directory")
        .to_string();
    assert!(
        msg.contains("central directory entry 0") && msg.contains("shifted.pt"),
        "{msg}"
    );
    Ok(())
}

/// Storage keys (`<archive>/data/<key>`) referenced anywhere under `obj`.
fn storage_keys(obj: &Object, keys: &mut HashSet<String>) {
    match obj {
        Object::PersistentLoad(inner) => {
            if let Object::Tuple(fields) = inner.as_ref()
                && let Some(Object::Unicode(key)) = fields.get(2)
            {
                keys.insert(key.clone());
            }
        }
        Object::Tuple(items) | Object::List(items) => {
            items.iter().for_each(|o| storage_keys(o, keys))
        }
        Object::Dict(items) => items.iter().for_each(|(k, v)| {
            storage_keys(k, keys);
            storage_keys(v, keys);
        }),
        Object::Reduce { callable, args } | Object::Build { callable, args } => {
            storage_keys(callable, keys);
            storage_keys(args, keys);
        }
        _ => {}
    }
}

#[test]
fn fairseq_training_state_is_never_read() -> TestResult {
    // esm1b_tiny_t2_fairseq.pt = esm1b_tiny_t2.pt + optimizer_history, extra_state and Adam's
    // moments (tests/reference/make_fixtures.py). Every byte of the moments is flipped here: the
    // load still succeeds (their storages' CRCs are never checked, so never read) and gives
    // the same weights.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("esm1b_tiny_t2_fairseq.pt");
    std::fs::copy(fixture("esm1b_tiny_t2_fairseq.pt"), &path)?;
    std::fs::copy(
        fixture("esm1b_tiny_t2_fairseq-contact-regression.pt"),
        dir.path()
            .join("esm1b_tiny_t2_fairseq-contact-regression.pt"),
    )?;
    let zip = TorchZip::open(&path)?;
    let pickle = zip
        .entries()
        .iter()
        .find(|e| e.name.ends_with("data.pkl"))
        .ok_or("no pickle")?;
    let mut stack = Stack::empty();
    stack.read_loop(&mut std::io::Cursor::new(zip.read_all(pickle)?))?;
    let Object::Dict(top) = stack.finalize()? else {
        return Err("top level is not a dict".into());
    };
    let mut optimizer_keys = HashSet::new();
    let mut model_keys = HashSet::new();
    for (k, v) in &top {
        match k {
            Object::Unicode(k) if k == "last_optimizer_state" => {
                storage_keys(v, &mut optimizer_keys)
            }
            Object::Unicode(k) if k == "model" => storage_keys(v, &mut model_keys),
            _ => {}
        }
    }
    assert!(
        optimizer_keys.len() >= 2 * model_keys.len() - 2,
        "{} moments",
        optimizer_keys.len()
    );
    let mut bytes = std::fs::read(&path)?;
    let mut flipped = 0usize;
    for key in &optimizer_keys {
        let at = payload_offset(&path, &format!("/data/{key}"))?;
        let len = zip
            .entry(&format!(
                "{}/data/{key}",
                pickle.name.trim_end_matches("/data.pkl")
            ))?
            .size as usize;
        bytes[at..at + len].iter_mut().for_each(|b| *b ^= 0xFF);
        flipped += len;
    }
    drop(zip);
    std::fs::write(&path, bytes)?;
    eprintln!(
        "flipped {flipped} bytes of Adam moments in {} storages",
        optimizer_keys.len()
    );
    assert_same_weights(&fixture("esm1b_tiny_t2.pt"), &path)
}
