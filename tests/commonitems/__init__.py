"""The common items: values read in every wording, and reading problems kept out of every rendering."""
