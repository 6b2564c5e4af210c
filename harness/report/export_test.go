package report

import "github.com/realm-ai/hookcert/harness"

// The external tests reach these unexported names under their old
// exported ones; no other package needs them.

const JUnitFile = junitFile

var (
	CheckText         = checkText
	Decode            = decode
	ErrNothingToMerge = errNothingToMerge
	Why               = why
)

type Step = step

func (r *Report) Groups() []group                  { return r.groups() }
func (r *Report) HTML() ([]byte, error)            { return r.html() }
func (r *Report) JUnitXML() ([]byte, error)        { return r.junitXML() }
func (r *Report) Profile() string                  { return r.profile() }
func (r *Report) Result(id string) *harness.Result { return r.result(id) }
