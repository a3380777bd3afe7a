//! Every case of `tests/cases/` run and compared with its expected outputs (the whole output
//! folder, stdout, stderr and the exit code), and every input row accounted for. The cases are
//! data: adding one is adding a folder (`args`, `about`, `rows`; `UPDATE_GOLDEN=1` writes
//! `expected/`), which the Python suite runs too.

use std::sync::Mutex;

use crate::util::{case_names, compare_case, run_case};

#[test]
fn every_case_gives_its_expected_outputs() {
    let names = case_names();
    assert!(names.len() >= 50, "the cases are found: {names:?}");
    let queue = Mutex::new(names.clone());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let Some(case) = queue.lock().unwrap().pop() else {
                    return;
                };
                let about =
                    std::fs::read_to_string(crate::util::cases_dir().join(&case).join("about"));
                let outcome = match about {
                    Err(e) => Err(format!("{case}: no about: {e}")),
                    Ok(_) => compare_case(&case, &run_case(&case)),
                };
                if let Err(failure) = outcome {
                    failures.lock().unwrap().push(failure);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        names.len(),
        failures.join("\n\n")
    );
}
