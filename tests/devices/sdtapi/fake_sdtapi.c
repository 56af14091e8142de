/*
 * Test double of a vendor library: a reader behind the Ministry's standard SDT API (libsdtapi.so / sdtapi.dll) that serves cards
 * from files, for tests of the ctypes driver.  It keeps the call sequence and the return codes
 * of a real reader: find (0x9F / 0x80), select (0x90 / 0x81), read base message (0x90 / 0x41),
 * read the appended address (0x90 / 0x91), and the module's habit of not finding a card again
 * after it was read until the card is lifted.
 *
 * The reader's state is a folder named by SDTAPI_FAKE_DIR, read on every call:
 *   card.bin    256 bytes of card text + 1024 bytes of photo; no file = no card on the reader
 *   newaddr.bin the appended-address record (70 bytes each); no file = none (0x91)
 *   fault       one word: open_fail | read_fail | lift_during_read | timeout | sam_fail
 *   ports       the ports that have a reader, one number per line (default: 1001)
 *   calls.log   every call is appended here (name and port), so a test can check the sequence
 * "lift_during_read" removes card.bin during SDT_ReadBaseMsg and fails the read (0x41), as a
 * card taken away in the middle of a read does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_SIZE 256
#define PHOTO_SIZE 1024

static int open_port = 0;
static int halted = 0;
static unsigned char last_text[TEXT_SIZE];

static const char *dir(void) {
    const char *d = getenv("SDTAPI_FAKE_DIR");
    return d ? d : ".";
}

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir(), name); }

static void log_call(const char *name, int port) {
    char p[4096];
    path_of(p, sizeof p, "calls.log");
    FILE *f = fopen(p, "a");
    if (f) {
        fprintf(f, "%s %d\n", name, port);
        fclose(f);
    }
}

static int fault_is(const char *what) {
    char p[4096], word[64] = {0};
    path_of(p, sizeof p, "fault");
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    int ok = fscanf(f, "%63s", word) == 1 && strcmp(word, what) == 0;
    fclose(f);
    return ok;
}

static long read_file(const char *name, unsigned char *buf, long max) {
    char p[4096];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "rb");
    if (!f) return -1;
    long n = (long)fread(buf, 1, (size_t)max, f);
    fclose(f);
    return n;
}

static int port_has_reader(int port) {
    char p[4096];
    path_of(p, sizeof p, "ports");
    FILE *f = fopen(p, "r");
    if (!f) return port == 1001;
    int n, found = 0;
    while (fscanf(f, "%d", &n) == 1)
        if (n == port) found = 1;
    fclose(f);
    return found;
}

static int valid_port(int port) { return (port >= 1 && port <= 16) || (port >= 1001 && port <= 1016); }

/* Every command: the port must be open (or iIfOpen asks us to open it for this call). */
static int enter(int port, int if_open) {
    if (fault_is("timeout")) return 0x02;
    if (if_open) {
        if (!valid_port(port) || !port_has_reader(port) || fault_is("open_fail")) return 0x01;
        return 0x90;
    }
    return open_port == port ? 0x90 : 0x01;
}

int SDT_OpenPort(int iPort) {
    log_call("SDT_OpenPort", iPort);
    if (!valid_port(iPort) || !port_has_reader(iPort) || fault_is("open_fail")) return 0x01;
    open_port = iPort;
    halted = 0;
    return 0x90;
}

int SDT_ClosePort(int iPort) {
    log_call("SDT_ClosePort", iPort);
    if (open_port != iPort) return 0x01;
    open_port = 0;
    return 0x90;
}

int SDT_GetSAMStatus(int iPort, int iIfOpen) {
    log_call("SDT_GetSAMStatus", iPort);
    int rc = enter(iPort, iIfOpen);
    if (rc != 0x90) return rc;
    return fault_is("sam_fail") ? 0x60 : 0x90;
}

int SDT_ResetSAM(int iPort, int iIfOpen) {
    log_call("SDT_ResetSAM", iPort);
    return enter(iPort, iIfOpen);
}

int SDT_GetSAMIDToStr(int iPort, char *pcSAMID, int iIfOpen) {
    log_call("SDT_GetSAMIDToStr", iPort);
    int rc = enter(iPort, iIfOpen);
    if (rc != 0x90) return rc;
    strcpy(pcSAMID, "05.01-20240101-0000001234-0000005678");
    return 0x90;
}

int SDT_StartFindIDCard(int iPort, unsigned char *pucManaInfo, int iIfOpen) {
    log_call("SDT_StartFindIDCard", iPort);
    int rc = enter(iPort, iIfOpen);
    if (rc != 0x90) return rc;
    unsigned char text[TEXT_SIZE];
    if (read_file("card.bin", text, TEXT_SIZE) != TEXT_SIZE) {
        halted = 0;
        return 0x80;
    }
    /* A card that was read is halted: not found again until lifted (another card is). */
    if (halted && memcmp(text, last_text, TEXT_SIZE) == 0) return 0x80;
    halted = 0;
    memset(pucManaInfo, 0, 4);
    return 0x9F;
}

int SDT_SelectIDCard(int iPort, unsigned char *pucManaMsg, int iIfOpen) {
    log_call("SDT_SelectIDCard", iPort);
    int rc = enter(iPort, iIfOpen);
    if (rc != 0x90) return rc;
    unsigned char text[TEXT_SIZE];
    if (read_file("card.bin", text, TEXT_SIZE) != TEXT_SIZE) return 0x81;
    memset(pucManaMsg, 0, 8);
    return 0x90;
}

int SDT_ReadBaseMsg(int iPort, unsigned char *pucCHMsg, unsigned int *puiCHMsgLen, unsigned char *pucPHMsg,
                    unsigned int *puiPHMsgLen, int iIfOpen) {
    log_call("SDT_ReadBaseMsg", iPort);
    int rc = enter(iPort, iIfOpen);
    if (rc != 0x90) return rc;
    unsigned char card[TEXT_SIZE + PHOTO_SIZE];
    if (fault_is("lift_during_read")) {
        char p[4096];
        path_of(p, sizeof p, "card.bin");
        unlink(p);
        halted = 0;
        return 0x41;
    }
    if (fault_is("read_fail")) return 0x41;
    if (read_file("card.bin", card, sizeof card) != (long)sizeof card) {
        halted = 0;
        return 0x41;
    }
    memcpy(pucCHMsg, card, TEXT_SIZE);
    memcpy(pucPHMsg, card + TEXT_SIZE, PHOTO_SIZE);
    *puiCHMsgLen = TEXT_SIZE;
    *puiPHMsgLen = PHOTO_SIZE;
    memcpy(last_text, card, TEXT_SIZE);
    halted = 1;
    return 0x90;
}

int SDT_ReadNewAppMsg(int iPort, unsigned char *pucAppMsg, unsigned int *puiAppMsgLen, int iIfOpen) {
    log_call("SDT_ReadNewAppMsg", iPort);
    int rc = enter(iPort, iIfOpen);
    if (rc != 0x90) return rc;
    unsigned char text[TEXT_SIZE];
    if (read_file("card.bin", text, TEXT_SIZE) != TEXT_SIZE) return 0x41;
    long n = read_file("newaddr.bin", pucAppMsg, 70 * 4);
    if (n <= 0) {
        *puiAppMsgLen = 0;
        return 0x91;
    }
    *puiAppMsgLen = (unsigned int)n;
    return 0x90;
}

/* The photo decoder some vendors put into the same library (the buffer API of libwlt): a
 * 102x126 24-bit BMP.  The WLT format is proprietary; this fills the pixels from the bytes. */
int unpack(char *wlt, char *bmp, int save_bmp) {
    (void)save_bmp;
    const int w = 102, h = 126, row = 308, size = 54 + row * h;
    memset(bmp, 0, (size_t)size);
    unsigned char *b = (unsigned char *)bmp;
    b[0] = 'B'; b[1] = 'M';
    b[2] = size & 0xff; b[3] = (size >> 8) & 0xff; b[4] = (size >> 16) & 0xff;
    b[10] = 54; b[14] = 40; b[18] = w; b[22] = h; b[26] = 1; b[28] = 24;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char v = (unsigned char)wlt[(y * w + x) % PHOTO_SIZE];
            unsigned char *px = b + 54 + y * row + x * 3;
            px[0] = px[1] = px[2] = v;
        }
    return 1;
}
