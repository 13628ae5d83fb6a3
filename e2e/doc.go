// Package e2e holds the end-to-end tests of the nflogcap binary: they build
// it, run it against the kernel's NFLOG in namespaces the tests create, and
// judge its output with tshark, capinfos and gopacket, as a user would.
package e2e
