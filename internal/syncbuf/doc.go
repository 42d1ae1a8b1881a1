// Package syncbuf is a bytes buffer that one goroutine (a child process's
// output copier, a command under test) writes while another reads it.
package syncbuf
