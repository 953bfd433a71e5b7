/* A stand-in for Windows' bcryptprimitives.dll, for Wine 8 only (Debian 12's), which lacks it:
 * Rust's standard library imports ProcessPrng from it for its random numbers. Real Windows
 * (10 and later) has the DLL; this forwards to RtlGenRandom (advapi32's SystemFunction036).
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
