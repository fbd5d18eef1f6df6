"""The patient's record: POEM check-ins, daily numbers, treatments and day marks (values, the store mixins, days recorded)."""
