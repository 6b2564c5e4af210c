package dial

// FilesLimit lets the external tests read the limit the package sees.
var FilesLimit = filesLimit
