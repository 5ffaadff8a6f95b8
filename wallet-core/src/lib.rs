//! Everything in liquid-otc that knows Liquid. No printing, no prompting.
