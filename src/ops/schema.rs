//! `simfleet schema`: write the JSON Schemas of spec files and of `simfleet.yaml`.

use std::fs;
use std::path::Path;

use crate::output::Output;
use crate::{spec, Error, Outcome};

/// Writes both schemas into `out_dir` (created if missing) and names them on `out`.
pub fn schema(out_dir: &Path, out: &mut Output) -> Result<Outcome, Error> {
    let write_error = |path: &Path, source: std::io::Error| Error::WriteFile {
        path: path.display().to_string(),
        source,
    };
    fs::create_dir_all(out_dir).map_err(|e| write_error(out_dir, e))?;
    for (name, text) in spec::schema::schemas() {
        let path = out_dir.join(name);
        crate::output::write_file(&path, text.as_bytes())?;
        out.print(&format!("wrote {}\n", path.display()))?;
    }
    Ok(Outcome::Success)
}
