//! Embedded Liquid regtest chain (the sandbox).
