//! Integration tests: the real application over HTTP, on SQLite and (when
//! `BARAZA_TEST_DATABASE_URL` is set) PostgreSQL.

mod access;
mod audit;
mod auth;
mod backup;
mod catalogue;
mod census;
mod central;
mod ckan;
mod collect;
mod common;
mod consent;
mod conversation;
mod digest;
mod encryption;
mod exports;
mod fuzz;
mod harvest;
mod import;
mod indicators;
mod ingest;
mod learn;
mod masking;
mod odk_encrypted;
mod pages;
mod processes;
mod records;
mod registers;
mod releases;
mod retention;
mod scopes;
mod sdc;
mod subjects;
mod tokens;
mod webform;
mod xlsform;
