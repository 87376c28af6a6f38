//! Integration tests: the real application over HTTP, on SQLite and (when
//! `BARAZA_TEST_DATABASE_URL` is set) PostgreSQL.

mod access;
mod auth;
mod collect;
mod common;
mod exports;
mod fuzz;
mod pages;
mod processes;
mod tokens;
mod xlsform;
