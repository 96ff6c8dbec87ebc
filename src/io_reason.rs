//! What an I/O failure means to a user, in our words first: "not found", "permission
//! denied", "is a folder", with the system's own text only as the cause behind it.

use std::io::{Error, ErrorKind};

/// The sentence that leads a failed read: `not found`, `cannot read (permission denied)`.
pub fn reading(err: &Error) -> String {
    match err.kind() {
        ErrorKind::NotFound => "not found".into(),
        ErrorKind::PermissionDenied => "cannot read (permission denied)".into(),
        ErrorKind::IsADirectory => "is a folder, not a file".into(),
        ErrorKind::UnexpectedEof => "cannot read (the file ends early: truncated?)".into(),
        _ => "cannot read".into(),
    }
}

/// The sentence that leads a failed write: `cannot write (the disk is full)`.
pub fn writing(err: &Error) -> String {
    match err.kind() {
        ErrorKind::StorageFull => "cannot write (the disk is full)".into(),
        ErrorKind::PermissionDenied => "cannot write (permission denied)".into(),
        ErrorKind::NotFound => "cannot write (its folder does not exist)".into(),
        ErrorKind::ReadOnlyFilesystem => "cannot write (read-only file system)".into(),
        _ => "cannot write".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_failures_read_as_plain_words() {
        assert_eq!(reading(&Error::from(ErrorKind::NotFound)), "not found");
        assert_eq!(
            writing(&Error::from(ErrorKind::StorageFull)),
            "cannot write (the disk is full)"
        );
        assert_eq!(reading(&Error::other("x")), "cannot read");
    }
}
