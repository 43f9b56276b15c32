/* Password prompt without echo (password.h). */
#include "password.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>

int password_prompt(const char *prompt, char *buffer, size_t capacity) {
  FILE *tty = fopen("/dev/tty", "r+");
  if (!tty) return -1;
  struct termios saved, quiet;
  int fd = fileno(tty), rc = -1;
  if (tcgetattr(fd, &saved) == 0) {
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL; /* the user still sees the line end */
    /* Ctrl-C while echo is off would leave the terminal silent: block the
     * terminal signals until it is restored. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTSTP);
    sigaddset(&block, SIGQUIT);
    sigprocmask(SIG_BLOCK, &block, &old);
    /* Echo goes off before the prompt shows: TCSAFLUSH drops only what was
     * typed ahead of it, never the answer to it. */
    if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0) {
      fputs(prompt, tty);
      fflush(tty);
      if (fgets(buffer, (int)capacity, tty)) {
        buffer[strcspn(buffer, "\r\n")] = '\0';
        rc = 0;
      }
      tcsetattr(fd, TCSAFLUSH, &saved);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
  }
  fclose(tty);
  return rc;
}
