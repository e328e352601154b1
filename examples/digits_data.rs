//! The bundled handwritten digits (`data/digits.csv.gz`, see `data/README.md`), read into
//! an `autodiff::data::Dataset`. Shared by `examples/digits.rs` and `tests/digits.rs`.

use std::error::Error;
use std::io::Read;

use autodiff::data::Dataset;
use flate2::read::GzDecoder;

/// The gzipped CSV file, embedded: 1,797 lines of 64 pixel values (0 to 16, an 8x8 image
/// row by row) and the digit.
pub const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// The 1,797 images as a data set: 64 features (pixels, row by row) and the classes
/// `"0"` to `"9"`.
///
/// The file has no header; the one `Dataset::from_csv` reads as scikit-learn's layout
/// (`n_samples,n_features,class names...`) is put in front, so the reader checks the
/// counts.
pub fn load_digits() -> Result<Dataset, Box<dyn Error>> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_CSV_GZ).read_to_string(&mut text)?;
    let rows = text.lines().filter(|l| !l.trim().is_empty()).count();
    let header = format!("{rows},64,0,1,2,3,4,5,6,7,8,9\n");
    Ok(Dataset::from_csv(&(header + &text))?)
}
