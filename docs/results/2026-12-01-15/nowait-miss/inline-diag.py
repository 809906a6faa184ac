# Applies the diagnostic to InlineTransfersTest: 300 tries of readAtOnce on a range whose first 16 KiB alone are cached,
# through the warmed descriptor, printing each answer, the pages resident after it, and the call's time.
p='src/test/java/dev/panaio/internal/channel/InlineTransfersTest.java'
s=open(p).read()
old='''                ByteBuffer dst = ByteBuffer.allocateDirect(64 << 10);
                PageCache.untilAMiss(path, 16384, () -> {
                    long answer = inline.readAtOnce(dst.clear(), 0);'''
new='''                ByteBuffer dst = ByteBuffer.allocateDirect(64 << 10);
                for (int k = 0; k < 300; k++) {
                    Files.readAllBytes(path);
                    PageCache.cacheOnlyTheFirst(path, 16384);
                    long residentBefore = PageCache.residentPages(path);
                    long t0 = System.nanoTime();
                    long answer = inline.readAtOnce(dst.clear(), 0);
                    long t1 = System.nanoTime();
                    System.out.println("NOWAIT-MISS try=" + k + " resident_before=" + residentBefore + " answer="
                            + (answer == InlineTransfers.MISSED ? "MISSED" : Long.toString(answer))
                            + " resident_after=" + PageCache.residentPages(path) + " call_ns=" + (t1 - t0));
                }
                PageCache.untilAMiss(path, 16384, () -> {
                    long answer = inline.readAtOnce(dst.clear(), 0);'''
assert old in s
s=s.replace(old,new)
open(p,'w').write(s)
