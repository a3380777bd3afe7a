//! The one summary `import` ends with: the preparation's rows and the upload's codes, side by
//! side (after the preparation's and the upload's own summaries).

use std::io::{self, Write};

use crate::upload::UploadOutcome;
use crate::Summary;

/// `import` in a few lines: rows read, accepted and rejected locally (none when the run resumed
/// an upload), then codes imported, failed at Voucherify and verified.
pub fn write_summary(
    w: &mut impl Write,
    prepared: Option<&Summary>,
    uploaded: &UploadOutcome,
    dir: &str,
) -> io::Result<()> {
    writeln!(w, "import into {}:", uploaded.campaign)?;
    match prepared {
        Some(summary) => writeln!(
            w,
            "  rows      {:>10} read, {} accepted, {} rejected locally ({dir}/rejected.csv)",
            summary.input_rows, summary.accepted, summary.rejected
        )?,
        None => writeln!(w, "  rows      resumed: {dir} was prepared before")?,
    }
    if uploaded.dry_run {
        return writeln!(w, "  codes     dry run: nothing was posted");
    }
    writeln!(
        w,
        "  codes     {:>10} imported, {} failed at Voucherify, {} verified ({} stored otherwise)",
        uploaded.codes_imported,
        uploaded.codes_failed,
        uploaded.codes_verified,
        uploaded.codes_mismatched
    )
}
