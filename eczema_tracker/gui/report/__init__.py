"""The report dialog and the flow that writes the PDF off the GUI thread."""
