//! The `baraza` program: configuration, telemetry, the command line, and
//! [`Application::build`], which `main` and the integration tests share.

pub mod app;
pub mod backup;
pub mod bench;
mod bench_audit;
mod bench_catalogue;
mod bench_export;
mod bench_indicators;
mod bench_reports;
mod bench_sdc;
mod bench_subjects;
mod bench_table;
pub mod config;
pub mod demo;
pub mod sdc;

pub use app::Application;
pub use config::Settings;
