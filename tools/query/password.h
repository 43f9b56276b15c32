/* Reading a password on the controlling terminal without echoing it. */
#ifndef CQLMUX_QUERY_PASSWORD_H
#define CQLMUX_QUERY_PASSWORD_H

#include <stddef.h>

/* Writes prompt to the terminal (/dev/tty), reads one line with echo off
 * into buffer (NUL-terminated, the newline dropped) and restores the
 * terminal. Returns 0, or -1 when there is no terminal or reading fails. */
int password_prompt(const char *prompt, char *buffer, size_t capacity);

#endif
