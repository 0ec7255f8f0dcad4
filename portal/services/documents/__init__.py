"""Documents generated from the data in the state format of Nghị định 30/2020 (Word)."""
