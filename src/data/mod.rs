//! Placeholder; filled by the data work.
