//! Unit tests of `state`.

use super::*;

#[test]
fn an_atomic_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.json");
    write_atomically(&path, b"one").unwrap();
    write_atomically(&path, b"two").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"two");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("upload.json")]);
}

#[test]
fn a_state_left_posting_is_read_back_as_unconfirmed_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(crate::folder::STATE_FILE);
    let mut batch = BatchState::new("import/part-00001.csv".into(), "ab".repeat(32), 3);
    batch.status = BatchStatus::Posting;
    batch.message = Some("echo s3cret-token".into());
    let state = UploadState::new("c", "https://x", vec![batch]);
    state.save(&path).unwrap();
    let read = UploadState::read(&path, &Redactor::new(&["s3cret-token"]))
        .unwrap()
        .unwrap();
    assert_eq!(read.batches[0].status, BatchStatus::Unconfirmed);
    assert_eq!(read.batches[0].message.as_deref(), Some("echo [redacted]"));
}

#[test]
fn a_state_of_the_first_version_is_read() {
    let old = r#"{"campaign":"c","api_url":"u","batches":[{"path":"import/part-00001.csv","sha256":"x","rows":2,
        "async_action_id":"aa_1","status":"DONE","progress":100.0,"done_count":1,"failed_count":1,"message":null,
        "failed":[{"code":"A","row":2,"reason":"dup"}]}]}"#;
    let state: UploadState = serde_json::from_str(old).unwrap();
    assert_eq!(state.batches[0].status, BatchStatus::Done);
    assert_eq!(state.batches[0].failed[0].row, Some(2));
}
