"""Roster import: people, teams, managers and programmes from a CSV file or a directory
(SCIM uses the same service), with a preview that names every row's problems."""
