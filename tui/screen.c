/* screen.c — curses set-up and tear-down, colours, signals and the drawing
 * helpers every panel uses; see screen.h. */
#include "screen.h"

#include <curses.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

static SCREEN *term;
static int curses_on, utf8, has_color;
static volatile sig_atomic_t got_sigint, got_term;

/* ---- terminal restore on every exit path --------------------------------- */

static void restore_terminal(void)
{
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
}

static void on_crash(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_sigint(int sig)
{
    (void)sig;
    got_sigint++;
}

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    atexit(restore_terminal);
}

int screen_interrupted(void)
{
    int n = got_sigint;
    got_sigint = 0;
    return n;
}

int screen_terminated(void)
{
    return got_term;
}

/* ---- set-up ---------------------------------------------------------------- */

int screen_usable(void)
{
    const char *term_name = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term_name && *term_name &&
           strcmp(term_name, "dumb");
}

static void colors(int contrast)
{
    has_color = has_colors() && !getenv("NO_COLOR");
    if (!has_color)
        return;
    start_color();
    use_default_colors();
    int bg = contrast ? COLOR_BLACK : -1;
    init_pair(SCREEN_TITLE, contrast ? COLOR_WHITE : COLOR_CYAN, bg);
    init_pair(SCREEN_FROZEN, contrast ? COLOR_WHITE : COLOR_CYAN, bg);
    init_pair(SCREEN_TRAIN, contrast ? COLOR_WHITE : COLOR_GREEN, bg);
    init_pair(SCREEN_PARTLY, COLOR_YELLOW, bg);
    init_pair(SCREEN_SEL, contrast ? COLOR_WHITE : COLOR_BLUE, bg);
    init_pair(SCREEN_WARN, COLOR_RED, bg);
    init_pair(SCREEN_S1, contrast ? COLOR_WHITE : COLOR_BLUE, bg);
    init_pair(SCREEN_S2, contrast ? COLOR_WHITE : COLOR_GREEN, bg);
    init_pair(SCREEN_S3, COLOR_YELLOW, bg);
    init_pair(SCREEN_S4, contrast ? COLOR_WHITE : COLOR_MAGENTA, bg);
    init_pair(SCREEN_EVENT, COLOR_RED, bg);
    init_pair(SCREEN_DIM, contrast ? COLOR_WHITE : COLOR_BLUE, bg);
}

int screen_open(int contrast)
{
    utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
    term = newterm(NULL, stdout, stdin);
    if (!term)
        return 1;
    curses_on = 1;
    install_signals();
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    colors(contrast);
    return 0;
}

void screen_close(void)
{
    restore_terminal();
    if (term) {
        delscreen(term);
        term = NULL;
    }
}

/* ---- keys ------------------------------------------------------------------ */

/* The final byte of a CSI or SS3 sequence curses did not know, as a key:
 * xterm's Home and End ("\e[H", "\eOF"), the VT220 editing keys
 * ("\e[1~" ... "\e[8~") and the arrows. 0 when it names none. */
static int sequence_key(int num, int final)
{
    switch (final) {
    case 'A': return KEY_UP;
    case 'B': return KEY_DOWN;
    case 'C': return KEY_RIGHT;
    case 'D': return KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    case '~': break;
    default: return 0;
    }
    switch (num) {
    case 1: case 7: return KEY_HOME;
    case 4: case 8: return KEY_END;
    case 3: return KEY_DC;
    case 2: return KEY_IC;
    case 5: return KEY_PPAGE;
    case 6: return KEY_NPAGE;
    }
    return 0;
}

int screen_key(void)
{
    int ch = getch();
    if (ch != 27)
        return ch;
    int next = getch();
    if (next == ERR)
        return 27;                       /* Escape by itself */
    if (next != '[' && next != 'O')
        return next < 256 ? SCREEN_ALT | next : next;   /* Alt-key */
    int num = 0, first = 1, c;           /* the first parameter; modifiers after ';' */
    while ((c = getch()) != ERR && c >= '0' && c <= ';') {
        if (c == ';')
            first = 0;
        else if (first && c >= '0' && c <= '9' && num < 1000)
            num = num * 10 + (c - '0');
    }
    int key = c == ERR ? 0 : sequence_key(num, c);
    return key ? key : screen_key();     /* an unknown sequence is dropped whole */
}

/* ---- drawing --------------------------------------------------------------- */

int screen_utf8(void)
{
    return utf8;
}

const char *screen_glyph(const char *utf8_text, const char *ascii)
{
    return utf8 ? utf8_text : ascii;
}

int screen_color(enum screen_pair pair)
{
    return has_color ? (int)COLOR_PAIR(pair) : 0;
}

int screen_columns(const char *text)
{
    wchar_t wide[256];
    size_t n = mbstowcs(wide, text, sizeof wide / sizeof wide[0] - 1);
    if (n == (size_t)-1)
        return (int)strlen(text);
    wide[n] = L'\0';
    int c = wcswidth(wide, n);
    return c < 0 ? (int)n : c;
}

void screen_put(int y, int x, int maxw, const char *text)
{
    if (maxw <= 0)
        return;
    size_t bytes = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (int cols = 0; text[bytes] && cols < maxw;) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, text + bytes, MB_CUR_MAX, &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
            break;
        int cw = wcwidth(wc);
        if (cw < 0 || cols + cw > maxw)
            break;                           /* a control character is never drawn */
        cols += cw;
        bytes += n;
    }
    mvaddnstr(y, x, text, (int)bytes);
}

void screen_fill(int y, int x, int w)
{
    for (int i = 0; i < w; i++)
        mvaddch(y, x + i, ' ');
}
