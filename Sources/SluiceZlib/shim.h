// zlib (Debian's zlib1g-dev), for inflating a PNG's image data in the offline provider.
#include <zlib.h>
