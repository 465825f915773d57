;; WebAssembly SIMD matrix-product kernel (float32), the fallback where the native addon cannot
;; be built. Regenerate the bytes in src/gemm-wasm-module.ts after editing:
;;   npx tsx packages/backend-cpu/native/wasm/generate.ts
;;
;; The caller (src/gemm-wasm.ts) packs op(A) and op(B) into this memory and pads C:
;;   packed A: depth panel pc (kcMost deep) at pa + 4 * mPad * pc; in it, 4-row strip s at
;;             s * kc * 16 bytes, element (i, p) of a strip at (p * 4 + i) * 4 bytes;
;;   packed B: panel pc at pb + 4 * nPad * pc; 8-column strip t at t * kc * 32 bytes,
;;             element (p, j) at (p * 8 + j) * 4 bytes;
;;   C:        mPad x nPad floats at c, row-major, mPad a multiple of 4, nPad of 8.
;; so every tile is whole and the kernel has no edge cases. Several threads may run `range`
;; at once on the same shared memory for disjoint column strips.
(module
  (import "env" "memory" (memory 1 16384 shared))

  ;; One 4 x 8 tile: C = alpha * (A strip)(B strip) + beta * C, with beta = 0 not reading C.
  ;; Eight f32x4 accumulators, two B vectors and a broadcast stay in the 16 xmm registers.
  (func $tile (param $pa i32) (param $pb i32) (param $c i32) (param $ldc i32) (param $kc i32)
              (param $alpha f32) (param $beta f32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $a v128) (local $va v128) (local $vb v128)
    (local $r1 i32) (local $r2 i32) (local $r3 i32)
    ;; v128 locals start as zero.
    (block $empty
      (br_if $empty (i32.eqz (local.get $kc)))
      (loop $depth
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $a (v128.load32_splat (local.get $pa)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
        (local.set $a (v128.load32_splat offset=4 (local.get $pa)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
        (local.set $a (v128.load32_splat offset=8 (local.get $pa)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
        (local.set $a (v128.load32_splat offset=12 (local.get $pa)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
        (br_if $depth (local.tee $kc (i32.sub (local.get $kc) (i32.const 1))))))
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $r1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $ldc)))
    (local.set $r3 (i32.add (local.get $r2) (local.get $ldc)))
    (if (f32.eq (local.get $beta) (f32.const 0))
      (then
        (v128.store (local.get $c) (f32x4.mul (local.get $va) (local.get $c00)))
        (v128.store offset=16 (local.get $c) (f32x4.mul (local.get $va) (local.get $c01)))
        (v128.store (local.get $r1) (f32x4.mul (local.get $va) (local.get $c10)))
        (v128.store offset=16 (local.get $r1) (f32x4.mul (local.get $va) (local.get $c11)))
        (v128.store (local.get $r2) (f32x4.mul (local.get $va) (local.get $c20)))
        (v128.store offset=16 (local.get $r2) (f32x4.mul (local.get $va) (local.get $c21)))
        (v128.store (local.get $r3) (f32x4.mul (local.get $va) (local.get $c30)))
        (v128.store offset=16 (local.get $r3) (f32x4.mul (local.get $va) (local.get $c31))))
      (else
        (local.set $vb (f32x4.splat (local.get $beta)))
        (v128.store (local.get $c)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c00)) (f32x4.mul (local.get $vb) (v128.load (local.get $c)))))
        (v128.store offset=16 (local.get $c)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c01)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $c)))))
        (v128.store (local.get $r1)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c10)) (f32x4.mul (local.get $vb) (v128.load (local.get $r1)))))
        (v128.store offset=16 (local.get $r1)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c11)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $r1)))))
        (v128.store (local.get $r2)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c20)) (f32x4.mul (local.get $vb) (v128.load (local.get $r2)))))
        (v128.store offset=16 (local.get $r2)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c21)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $r2)))))
        (v128.store (local.get $r3)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c30)) (f32x4.mul (local.get $vb) (v128.load (local.get $r3)))))
        (v128.store offset=16 (local.get $r3)
          (f32x4.add (f32x4.mul (local.get $va) (local.get $c31)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $r3))))))))

  ;; Column strips [js0, js1) of C, all rows, every depth panel: for each panel, for each block
  ;; of mcMost rows (the A block stays in L2), for each B strip (stays in L1), each A strip.
  (func $range (export "range")
    (param $pa i32) (param $pb i32) (param $c i32) (param $mPad i32) (param $nPad i32)
    (param $k i32) (param $kcMost i32) (param $mcMost i32) (param $js0 i32) (param $js1 i32)
    (param $alpha f32) (param $beta f32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $icEnd i32) (local $js i32) (local $is i32)
    (local $panelA i32) (local $panelB i32) (local $stripB i32) (local $betaHere f32) (local $ldc i32)
    (local.set $ldc (i32.shl (local.get $nPad) (i32.const 2)))
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_u (local.get $pc) (local.get $k)))
        (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
        (if (i32.gt_u (local.get $kc) (local.get $kcMost)) (then (local.set $kc (local.get $kcMost))))
        (local.set $panelA (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $mPad) (local.get $pc)) (i32.const 2))))
        (local.set $panelB (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $nPad) (local.get $pc)) (i32.const 2))))
        ;; Later panels add onto what the first one wrote.
        (local.set $betaHere (local.get $beta))
        (if (local.get $pc) (then (local.set $betaHere (f32.const 1))))
        (local.set $ic (i32.const 0))
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.ge_u (local.get $ic) (local.get $mPad)))
            (local.set $icEnd (i32.add (local.get $ic) (local.get $mcMost)))
            (if (i32.gt_u (local.get $icEnd) (local.get $mPad)) (then (local.set $icEnd (local.get $mPad))))
            (local.set $js (local.get $js0))
            (block $stripsDone
              (loop $strips
                (br_if $stripsDone (i32.ge_u (local.get $js) (local.get $js1)))
                (local.set $stripB (i32.add (local.get $panelB) (i32.mul (local.get $js) (i32.shl (local.get $kc) (i32.const 5)))))
                (local.set $is (local.get $ic))
                (block $rowsDone
                  (loop $rows
                    (br_if $rowsDone (i32.ge_u (local.get $is) (local.get $icEnd)))
                    ;; $is counts rows (a multiple of 4): A strip at is/4 * kc * 16 = is * kc * 4 bytes.
                    (call $tile
                      (i32.add (local.get $panelA) (i32.shl (i32.mul (local.get $is) (local.get $kc)) (i32.const 2)))
                      (local.get $stripB)
                      (i32.add (local.get $c)
                        (i32.add (i32.mul (local.get $is) (local.get $ldc)) (i32.shl (local.get $js) (i32.const 5))))
                      (local.get $ldc)
                      (local.get $kc)
                      (local.get $alpha)
                      (local.get $betaHere))
                    (local.set $is (i32.add (local.get $is) (i32.const 4)))
                    (br $rows)))
                (local.set $js (i32.add (local.get $js) (i32.const 1)))
                (br $strips)))
            (local.set $ic (local.get $icEnd))
            (br $blocks)))
        (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
        (br $panels))))
)
