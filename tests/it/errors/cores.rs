//! Bad `cores`: zero, negative, not a number, or finer than a thousandth of a
//! core (the CPU of a replica; docs/SCENARIO.md, "CPU cores").

use super::{bad, names_line_and_path};

#[test]
fn cores_zero_negative_or_not_a_number() {
    let e = bad("  orders:\n", "  orders:\n    cores: 0\n");
    names_line_and_path(&e, 10, "services.orders.cores");
    // Beside the other error messages' snapshots.
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_snapshot!(e);
    });
    for (cores, says) in [
        ("-2", "below zero"),
        ("two", "not a number of cores"),
        ("1.5m", "not a number of cores"),
        ("0.0001", "finer than a thousandth"),
        ("[2]", "not a number of cores"),
    ] {
        let e = bad("  orders:\n", &format!("  orders:\n    cores: {cores}\n"));
        names_line_and_path(&e, 10, "services.orders.cores");
        assert!(e.contains(says) && e.contains("500m"), "{cores}: {e}");
    }
}
