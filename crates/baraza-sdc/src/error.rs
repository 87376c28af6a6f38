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
    #[error("the importance order has {got} entries for {expected} key variables: give one rank per key, 1 for the most important")]
    ImportanceWidth { expected: usize, got: usize },
    #[error("the importance of key {variable:?} is 0: ranks start at 1 (the most important key)")]
    ZeroImportance { variable: String },
    #[error("k = {k} cannot be reached with {records} records: a table needs at least k records to be k-anonymous")]
    TooFewRecords { k: u32, records: usize },
    #[error("there is no key variable {variable:?}: use one of the table's keys")]
    UnknownVariable { variable: String },
    #[error("record {row}: the value {value:?} of {variable:?} is not a number: interval, top and bottom coding apply to numeric keys only")]
    NotNumeric {
        variable: String,
        row: usize,
        value: String,
    },
    #[error("the break points of {variable:?} must be finite numbers in increasing order, at least one: got {breaks:?}")]
    BadBreaks { variable: String, breaks: Vec<f64> },
    #[error("the bound {bound} for {variable:?} is not a finite number")]
    BadBound { variable: String, bound: f64 },
    #[error("record {row}: the value {value:?} of {variable:?} has no parent at level {level} of the hierarchy: add it to that level's map")]
    NotInHierarchy {
        variable: String,
        row: usize,
        value: String,
        level: usize,
    },
    #[error(
        "level {level} of the hierarchy of {variable:?} was asked for, but it has {levels} levels"
    )]
    HierarchyLevel {
        variable: String,
        level: usize,
        levels: usize,
    },
    #[error("record {row}: the value {value:?} of {variable:?} is not an ISO 8601 date (YYYY-MM-DD, YYYY-MM or YYYY)")]
    NotADate {
        variable: String,
        row: usize,
        value: String,
    },
    #[error(
        "the tables compared differ in {what}: compare a table with its own anonymised version"
    )]
    TablesDiffer { what: String },
    #[error("the PRAM probability of keeping a value, {value}, is outside [0, 1]: 0.8 is usual")]
    PramProbability { value: f64 },
    #[error("the PRAM row of category {category:?} of {variable:?} sums to {sum}, or has a negative entry: give probabilities of at least 0 that sum to 1")]
    PramMatrix {
        variable: String,
        category: String,
        sum: f64,
    },
    #[error("the group size k = {k} of microaggregation must be at least 2, and the table must have at least k records (it has {records})")]
    GroupSize { k: usize, records: usize },
    #[error("record {row}: variable {variable} has {value}, not a finite number: microaggregation needs numbers in every cell")]
    NotFinite {
        row: usize,
        variable: usize,
        value: f64,
    },
    #[error("record {row} has {got} values for {expected} variables: give every record the same variables")]
    RecordWidth {
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error(
        "the share of records that may be suppressed, {value}, is outside [0, 1]: 0.05 is usual"
    )]
    SuppressionShare { value: f64 },
    #[error("the hierarchies give {nodes} combinations of levels, more than {max}: give fewer levels or fewer keys with a hierarchy")]
    LatticeTooLarge { nodes: usize, max: usize },
    #[error("no generalisation reaches k = {k} with at most {max_suppressed} of the records suppressed: allow more suppression, add levels to the hierarchies or lower k")]
    NoGeneralisation { k: u32, max_suppressed: f64 },
    #[error("step {step} ({method}): {source}")]
    Step {
        step: usize,
        method: String,
        source: Box<SdcError>,
    },
    #[error("{problem}: fix the recipe")]
    Recipe { problem: String },
    #[error("there is no column {variable:?} for the {role}: the columns are {columns}")]
    UnknownColumn {
        variable: String,
        role: String,
        columns: String,
    },
    #[error("record {row}: the weight {value:?} in {variable:?} is not a number: give every record a numeric sampling weight")]
    WeightNotNumber {
        row: usize,
        variable: String,
        value: String,
    },
}
