//! `dwell-report`: placeholder until the report lands.
fn main() {}
