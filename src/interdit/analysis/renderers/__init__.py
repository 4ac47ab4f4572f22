"""The analysis outputs, one module each, registered in `interdit.analysis.output.outputs`."""
