# Applies the diagnostic to RwFlagTest: 300 kernel-AIO reads of the file's first 4 KiB with RWF_NOWAIT after the
# file is read whole and evicted, alternately through the descriptor the test opened (read through before) and
# through a descriptor opened for that read, printing each answer and the io_submit-to-completion time.
p='src/test/java/dev/panaio/RwFlagTest.java'
s=open(p).read()
old='''            MemorySegment dst = arena.allocate(4096);
            assertThat(read(aio, file, dst, 0, with(RwFlag.NOWAIT))).as("uncached: would block").isEqualTo(-EAGAIN);
'''
new='''            MemorySegment dst = arena.allocate(4096);
            for (int k = 0; k < 300; k++) {
                java.nio.file.Files.readAllBytes(path);
                PageCache.evict(path);
                boolean reused = k % 2 == 0;
                long t0;
                long t1;
                long r;
                if (reused) {
                    t0 = System.nanoTime();
                    r = read(aio, file, dst, 0, with(RwFlag.NOWAIT));
                    t1 = System.nanoTime();
                } else {
                    try (AioFile fresh = AioFile.open(path, READ)) {
                        t0 = System.nanoTime();
                        r = read(aio, fresh, dst, 0, with(RwFlag.NOWAIT));
                        t1 = System.nanoTime();
                    }
                }
                System.out.println("AIO-NOWAIT try=" + k + " descriptor=" + (reused ? "reused" : "fresh") + " answer="
                        + (r == -EAGAIN ? "EAGAIN" : Long.toString(r)) + " ns=" + (t1 - t0));
            }
            PageCache.evict(path);
            assertThat(read(aio, file, dst, 0, with(RwFlag.NOWAIT))).as("uncached: would block").isEqualTo(-EAGAIN);
'''
assert old in s
s=s.replace(old,new)
open(p,'w').write(s)
