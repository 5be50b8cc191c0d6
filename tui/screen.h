/* screen.h — the one owner of curses: setting the terminal up and giving it
 * back on every exit path (a return, exit(), a fatal signal), the colour
 * pairs and the signals the workbench answers. Panels draw with the helpers
 * below; only this file calls newterm, endwin and init_pair.
 *
 *     if (!screen_usable() || screen_open(contrast))
 *         ... the line-mode prompt instead ...
 *     while (!screen_terminated()) {
 *         if (screen_interrupted()) ... Ctrl-C ...
 *         attron(screen_color(SCREEN_WARN));
 *         screen_put(y, x, w, screen_glyph("❄", "*"));
 *         ...
 *     }
 *     screen_close();
 */
#ifndef THAW_SCREEN_H
#define THAW_SCREEN_H

/* The colour pairs. */
enum screen_pair {
    SCREEN_TITLE = 1, SCREEN_FROZEN, SCREEN_TRAIN, SCREEN_PARTLY, SCREEN_SEL, SCREEN_WARN,
    SCREEN_S1, SCREEN_S2, SCREEN_S3, SCREEN_S4, SCREEN_EVENT, SCREEN_DIM
};

/* stdin and stdout are terminals and TERM names one (not "dumb"). */
int screen_usable(void);

/* Starts curses on stdin/stdout: raw keys without echo, keypad and mouse
 * clicks, non-blocking reads; colours unless NO_COLOR is set (contrast: the
 * high-contrast theme); SIGINT and SIGTERM/SIGHUP noted for the main loop;
 * the terminal restored on exit and on a fatal signal. 1 when curses cannot
 * start on this terminal (nothing has changed then). */
int screen_open(int contrast);

/* Gives the terminal back and frees curses. Safe to call more than once. */
void screen_close(void);

/* How many SIGINTs arrived since the last call. */
int screen_interrupted(void);

/* SIGTERM or SIGHUP arrived. */
int screen_terminated(void);

/* The next key (getch(), non-blocking), with the escape sequences of the
 * editing keys that this terminal's description lacks turned into curses
 * keys (KEY_HOME for "\e[1~" under TERM=xterm, ...); an Escape that
 * nothing follows is 27, one that a key follows at once is that key with
 * SCREEN_ALT. ERR when no key is waiting. */
int screen_key(void);

#define SCREEN_ALT 0x10000   /* above every curses key code */

/* The locale is UTF-8 (known from screen_open on). */
int screen_utf8(void);

/* utf8 or, in another locale, ascii. */
const char *screen_glyph(const char *utf8, const char *ascii);

/* The attribute of a colour pair; 0 without colours. */
int screen_color(enum screen_pair pair);

/* text at (y, x), cut to maxw display columns (UTF-8 aware). */
void screen_put(int y, int x, int maxw, const char *text);

/* w blanks from (y, x), in the current attributes. */
void screen_fill(int y, int x, int w);

/* Display columns of a UTF-8 string. */
int screen_columns(const char *text);

#endif
