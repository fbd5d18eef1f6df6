"""The doctor's report: the request (range, sites), the data read for it, the summary lines, the document model and its PDF."""
