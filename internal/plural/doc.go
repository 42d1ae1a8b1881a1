// Package plural writes counts of things in English: "1 target",
// "3 targets". Every log line, table and message that counts uses it.
package plural
