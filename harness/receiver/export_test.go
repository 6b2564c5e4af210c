package receiver

// ReceiverOf gives the external tests the receiver a Server serves, to
// read what it processed without the probe.
var ReceiverOf = (*Server).receiver
