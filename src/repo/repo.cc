// The repository layer; see README.md in this folder.
