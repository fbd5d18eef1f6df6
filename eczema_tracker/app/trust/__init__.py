"""How far to trust a result: prompt agreement (checked and kept) and the words for an unfamiliar photo."""
