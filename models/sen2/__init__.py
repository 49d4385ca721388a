"""The DfE SEN2 person-level return (2024 shape): read into the case store and written back out of it."""
