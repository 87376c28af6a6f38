//! The crate's one error type. Every variant says where (variable, row) and what to do.

/// What can go wrong when a table is built or assessed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SdcError {
    #[error("no key variables were given: name at least one quasi-identifier")]
    NoKeys,
    #[error("{count} key variables were given: at most 64 are supported, keep the ones an intruder could know")]
    TooManyKeys { count: usize },
    #[error("variable {name:?} is named twice: give each key, weight, household and sensitive variable once")]
    DuplicateVariable { name: String },
    #[error("the table has no records: give a file with at least one data row")]
    Empty,
    #[error("row {row}: {got} key values were given for {expected} key variables")]
    RowWidth {
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error("row {row}: {got} sensitive values were given for {expected} sensitive variables")]
    SensitiveWidth {
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error("row {row}: the weight in {variable:?} is missing: give every record a sampling weight, or leave the weight out")]
    MissingWeight { row: usize, variable: String },
    #[error("row {row}: the weight {value} in {variable:?} is not a positive number: sampling weights must be greater than 0")]
    BadWeight {
        row: usize,
        variable: String,
        value: f64,
    },
    #[error("row {row}: a weight was given but the table has no weight variable")]
    UnexpectedWeight { row: usize },
    #[error("k = 0 makes no sense: give values of k of at least 1, such as 2, 3 and 5")]
    ZeroK,
    #[error("the SUDA maximum size must be at least 1 (got 0): 3 is usual")]
    ZeroSudaSize,
    #[error("the DIS sampling fraction {value} is outside (0, 1): give the share of the population in the sample, such as 0.01")]
    DisFraction { value: f64 },
    #[error("the recursive l-diversity constant c = {value} must be greater than 0: 2 is usual")]
    RecursiveC { value: f64 },
}
