// The CLI library; see README.md in this folder.
