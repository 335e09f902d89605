//! Placeholder; filled by the experiment work.
